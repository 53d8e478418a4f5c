package org.repopt.backend;

import org.deeplearning4j.config.DL4JSystemProperties;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.HelperUtils;
import org.deeplearning4j.nn.layers.mkldnn.BaseMKLDNNHelper;
import org.nd4j.linalg.factory.Environment;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Turns on DL4J's oneDNN layer helpers, which DL4J 1.0.0-M2.1 ships switched off twice over.
 *
 * <ol>
 *   <li>{@link HelperUtils#createHelper} creates no helper unless the system property
 *       {@value DL4JSystemProperties#DISABLE_HELPER_PROPERTY} is {@code false}; its default is {@code true}.
 *       {@link #enable()} sets it to {@code false} unless the user set it explicitly.</li>
 *   <li>{@link BaseMKLDNNHelper#mklDnnEnabled()} looks up a class by a name that moved in M2.1 and
 *       so always answers {@code false}; the bridge class {@link org.nd4j.nativeblas.Nd4jCpu} restores that
 *       name, and {@link #enable()} checks that the lookup now succeeds.</li>
 * </ol>
 * Helpers are chosen when a layer is instantiated, so {@link #enable()} must run before
 * {@code ComputationGraph.init()}: every builder and entry point of this project calls it. On the CUDA backend
 * the same switch lets DL4J use cuDNN where {@code deeplearning4j-cuda} is on the class path.
 *
 * <p><b>Process-wide state.</b> This class is the one place the project changes DL4J's or ND4J's global settings:
 * {@link #enable()} sets the system property above (once, unless the user set it), and
 * {@link #withoutPlatformHelpers} turns ND4J's "platform helpers allowed" flag off for the duration of one call
 * ({@code EngineSelectingConvHelper} does so for the backward pass of convolutions on maps of a few pixels). That flag
 * is process-wide: an op another thread runs at the same moment also takes libnd4j's generic path, which changes its
 * speed, not its result. Everything else (seeds, workspaces, data types) is per network or per component.
 */
public final class OneDnnHelpers {

    private static final Logger LOG = LoggerFactory.getLogger(OneDnnHelpers.class);
    private static volatile boolean enabled;

    private OneDnnHelpers() {
    }

    /**
     * Switches DL4J's layer helpers on for every layer instantiated from now on. Idempotent and cheap.
     *
     * @throws IllegalStateException on the CPU backend, if oneDNN still reports itself unavailable
     *                               (a build without the oneDNN classifier, or a DL4J whose helper lookup changed)
     */
    public static void enable() {
        if (enabled) {
            return;
        }
        synchronized (OneDnnHelpers.class) {
            if (enabled) {
                return;
            }
            String userChoice = System.getProperty(DL4JSystemProperties.DISABLE_HELPER_PROPERTY);
            if (userChoice == null) {
                System.setProperty(DL4JSystemProperties.DISABLE_HELPER_PROPERTY, "false");
            } else if (Boolean.parseBoolean(userChoice)) {
                LOG.info("DL4J layer helpers stay off: the user set -D{}={}",
                        DL4JSystemProperties.DISABLE_HELPER_PROPERTY, userChoice);
            }
            if (isCpuBackend() && helpersRequested() && !BaseMKLDNNHelper.mklDnnEnabled()) {
                throw new IllegalStateException("oneDNN is not available on the CPU backend: build with an nd4j-native "
                        + "'-onednn' classifier (the default cpu profile does) and keep the bridge class "
                        + "org.nd4j.nativeblas.Nd4jCpu on the class path");
            }
            enabled = true;
        }
    }

    /**
     * Runs {@code op} with ND4J's platform helpers (oneDNN inside libnd4j) switched off, then restores the previous
     * setting. Process-wide: see the class comment.
     *
     * @param op  the work, typically one libnd4j op call
     * @param <T> its result
     * @return {@code op}'s result
     */
    public static <T> T withoutPlatformHelpers(Supplier<T> op) {
        Environment env = Nd4j.getEnvironment();
        boolean allowed = env.helpersAllowed();
        env.allowHelpers(false);
        try {
            return op.get();
        } finally {
            env.allowHelpers(allowed);
        }
    }

    /** @return whether layers instantiated now will get helpers (false only where the user switched them off). */
    public static boolean helpersRequested() {
        return !Boolean.parseBoolean(System.getProperty(DL4JSystemProperties.DISABLE_HELPER_PROPERTY, "true"));
    }

    /** @return whether ND4J runs on its CPU (native) backend. */
    public static boolean isCpuBackend() {
        return "CPU".equalsIgnoreCase(backendName());
    }

    /** @return the ND4J backend name as ND4J reports it: {@code CPU} or {@code CUDA}. */
    public static String backendName() {
        return Nd4j.getExecutioner().getEnvironmentInformation().getProperty("backend");
    }

    /**
     * Reports, for every layer of {@code graph} that can have a helper, the helper's class name or
     * {@code "none"}: convolution, batch normalization, pooling and LRN layers.
     *
     * @param graph an initialized graph
     * @return layer name to helper simple class name, in the graph's layer order
     */
    public static Map<String, String> helpersOf(ComputationGraph graph) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Layer layer : graph.getLayers()) {
            if (canHaveHelper(layer)) {
                Object helper = layer.getHelper();
                out.put(layer.conf().getLayer().getLayerName(),
                        helper == null ? "none" : helper.getClass().getSimpleName());
            }
        }
        return out;
    }

    private static boolean canHaveHelper(Layer layer) {
        return layer instanceof org.deeplearning4j.nn.layers.convolution.ConvolutionLayer
                || layer instanceof org.deeplearning4j.nn.layers.normalization.BatchNormalization
                || layer instanceof org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer
                || layer instanceof org.deeplearning4j.nn.layers.normalization.LocalResponseNormalization;
    }
}
