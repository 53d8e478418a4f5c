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
 * the same switch lets DL4J use cuDNN where {@code deeplearning4j-cuda} is on the class path. On a CPU backend
 * without oneDNN it does nothing but say so: the project then trains on DL4J's built-in layers.
 *
 * <p><b>Process-wide state.</b> This class is the one place the project changes DL4J's or ND4J's global settings:
 * {@link #enable()} sets the system property above (once, unless the user set it, and only where helpers exist), and
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
     * Switches DL4J's layer helpers on for every layer instantiated from now on, where the backend has them: oneDNN on
     * a CPU backend built with it (an nd4j-native {@code -onednn} classifier, the default {@code cpu} profile), cuDNN
     * on CUDA. Says once, in one log line, what it did. On a CPU backend without oneDNN (the plain
     * {@code linux-x86_64} classifier that {@code nd4j-native-platform} brings) it changes nothing and training runs on
     * DL4J's built-in layers: oneDNN is a speed-up, never a requirement. Idempotent and cheap.
     */
    public static void enable() {
        if (enabled) {
            return;
        }
        synchronized (OneDnnHelpers.class) {
            if (enabled) {
                return;
            }
            String property = DL4JSystemProperties.DISABLE_HELPER_PROPERTY;
            String userChoice = System.getProperty(property);
            boolean cpu = isCpuBackend();
            if (userChoice != null && Boolean.parseBoolean(userChoice)) {
                LOG.info("DL4J layer helpers stay off: the user set -D{}={}", property, userChoice);
            } else if (cpu && !nd4jHasOneDnn()) {
                LOG.info("oneDNN is not in this ND4J build: DL4J's built-in CPU layers are used (an nd4j-native "
                        + "'-onednn' classifier, as the cpu profile has, makes training faster)");
            } else if (cpu && !BaseMKLDNNHelper.mklDnnEnabled()) {
                LOG.warn("ND4J has oneDNN, but DL4J's helper lookup fails (the bridge class org.nd4j.nativeblas.Nd4jCpu "
                        + "is missing from the class path?): DL4J's built-in CPU layers are used");
            } else {
                if (userChoice == null) {
                    System.setProperty(property, "false");
                }
                LOG.info("{} helpers switched on for DL4J's layers (-D{}=false{})", cpu ? "oneDNN" : "cuDNN",
                        property, userChoice == null ? ", set by repopt-dl4j" : ", set by the user");
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

    /**
     * @return whether ND4J's native library was built with oneDNN (the {@code -onednn} classifiers of nd4j-native; the
     * plain {@code linux-x86_64} one is not), from libnd4j's own build information
     */
    public static boolean nd4jHasOneDnn() {
        try {
            return isCpuBackend() && org.nd4j.nativeblas.NativeOpsHolder.getInstance().getDeviceNativeOps().buildInfo()
                    .contains("HAVE_ONEDNN");
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
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
