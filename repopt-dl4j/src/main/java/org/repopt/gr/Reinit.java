package org.repopt.gr;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.weights.IWeightInit;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.repopt.backend.Nd4jRandom;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * The Rule of Initialization (Ding et al., ICLR 2023, section 3.2; docs/METHOD.md#rule-of-initialization): writes
 * into each assigned conv the kernel its CSLA block would start from,
 * <pre>{@code W' = s_k[o] * W + pad_c(s1[o] * W1) [+ pad_c(I * sid[o])]}</pre>
 * where {@code W} is the conv's own fresh init, {@code W1} a fresh 1x1 kernel drawn with the conv's weight init
 * (fan-in {@code in}, fan-out {@code out}; only for blocks with a 1x1 branch) and {@code pad_c} places a 1x1 kernel at
 * the centre tap {@code (k/2, k/2)} of an odd k x k kernel. A depthwise block ({@code groups == channels}, DL4J's
 * {@code [k, k, C, 1]} kernel; docs/METHOD.md#grad-mult-depthwise) has no 1x1 branch:
 * {@code W'[c] = s_k[c] * W[c] + sid[c]} at the centre tap, e.g. RepOpt-GhostNet's
 * {@code scale_cheap[c] * W + fusion_scale[c]}; it draws nothing.
 *
 * <p>Random numbers: the 1x1 kernels come from a generator of their own, ND4J's generator of a short-lived worker
 * thread seeded with the given seed ({@link Nd4jRandom#reseed}), because DL4J's weight initializations draw from the
 * calling thread's generator and cannot be handed another. The caller's generator is neither re-seeded nor advanced
 * ({@code ReinitTest#reinitLeavesTheCallersGeneratorAlone}).
 *
 * <p>Re-initialization only makes sense for a network about to be trained from scratch. A network that has
 * trained (iteration or epoch count above 0) or whose BatchNorm layers left their initial state (gamma 1, beta 0,
 * running mean 0, running variance 1), as a restored or pretrained one has, is refused: fine-tuning must keep its
 * weights (the reference code's users stumble on exactly this; docs/METHOD.md#fine-tuning).
 */
public final class Reinit {

    private Reinit() {
    }

    /**
     * Applies the Rule of Initialization to every assigned conv of a fresh network, in place.
     *
     * @param net        an initialized network, fresh from {@code init()}
     * @param assignment which conv gets which block's scales
     * @param seed       seed of the random 1x1 kernels
     * @throws IllegalStateException where {@code net} is not fresh
     */
    public static void apply(ComputationGraph net, ScaleAssignment assignment, long seed) {
        apply(net, assignment.byLayer(), seed);
    }

    /**
     * Applies the Rule of Initialization to the named convs of a fresh graph, in place.
     *
     * @param net     an initialized network, fresh from {@code init()}
     * @param byLayer conv layer name to its block's scales
     * @param seed    seed of the random 1x1 kernels
     * @throws IllegalStateException    where {@code net} is not fresh
     * @throws IllegalArgumentException naming the block and layer where a layer is missing or its kernel does not fit
     */
    public static void apply(ComputationGraph net, Map<String, BlockScales> byLayer, long seed) {
        requireFresh(net);
        reinitialize(net::getLayer, byLayer, seed);
    }

    /**
     * Applies the Rule of Initialization to the named convs of a fresh {@link MultiLayerNetwork}, in place.
     *
     * @param net     an initialized network, fresh from {@code init()}
     * @param byLayer conv layer name to its block's scales
     * @param seed    seed of the random 1x1 kernels
     * @throws IllegalStateException    where {@code net} is not fresh
     * @throws IllegalArgumentException naming the block and layer where a layer is missing or its kernel does not fit
     */
    public static void apply(MultiLayerNetwork net, Map<String, BlockScales> byLayer, long seed) {
        requireFresh(net);
        reinitialize(name -> layerOrNull(net, name), byLayer, seed);
    }

    private static Layer layerOrNull(MultiLayerNetwork net, String name) {
        for (Layer l : net.getLayers()) {
            if (name.equals(l.conf().getLayer().getLayerName())) {
                return l;
            }
        }
        return null;
    }

    private static void reinitialize(Function<String, Layer> layers, Map<String, BlockScales> byLayer, long seed) {
        Map<String, Layer> found = new LinkedHashMap<>();
        for (Map.Entry<String, BlockScales> e : byLayer.entrySet()) {
            BlockScales b = e.getValue();
            Layer layer = layers.apply(e.getKey());
            if (layer == null) {
                throw new IllegalArgumentException("block " + b.block() + ": the network has no layer '" + e.getKey()
                        + "'");
            }
            INDArray kernel = layer.getParam(ConvolutionParamInitializer.WEIGHT_KEY);
            long[] expected = dl4jShape(b);
            if (kernel == null || !Arrays.equals(kernel.shape(), expected)) {
                throw new IllegalArgumentException("block " + b.block() + " (layer '" + e.getKey() + "'): kernel shape "
                        + (kernel == null ? "none" : Arrays.toString(kernel.shape())) + ", expected "
                        + Arrays.toString(expected) + (b.depthwise() ? " (DL4J's depthwise layout [k, k, C, 1])" : ""));
            }
            found.put(e.getKey(), layer);
        }
        onSeededWorker(seed, () -> {
            // Every 1x1 kernel is drawn into the same buffer, scaled in place and added at once: the temporaries of the
            // whole network would be 40 MB at B1 widths, held by ND4J's allocator for the rest of the run.
            long largest = found.keySet().stream().map(byLayer::get).filter(BlockScales::hasConv1x1)
                    .mapToLong(b -> (long) b.outChannels() * b.inChannels()).max().orElse(0);
            INDArray scratch = null;
            for (Map.Entry<String, Layer> e : found.entrySet()) {
                BlockScales b = byLayer.get(e.getKey());
                INDArray kernel = e.getValue().getParam(ConvolutionParamInitializer.WEIGHT_KEY);
                INDArray w1 = null;
                if (b.hasConv1x1()) {
                    if (scratch == null || scratch.dataType() != kernel.dataType()) {
                        release(scratch);
                        scratch = Nd4j.create(kernel.dataType(), largest);
                    }
                    w1 = fresh1x1(e.getValue(), b.outChannels(), b.inChannels(), scratch);
                }
                if (!b.depthwise() && kernel.ordering() == 'c' && Shape.hasDefaultStridesForShape(kernel)) {
                    // In place on the network's own memory: a copy per kernel, even closed at once, left ND4J's
                    // allocator holding about a second copy of every kernel (200 MB at B1 widths) for the run.
                    requireShapes(b, kernel, w1);
                    CentreTapAlgebra.applyConsumingCentre(kernel, b.scaleConv(), w1, b.scale1x1(), b.scaleIdentity());
                } else {
                    INDArray equivalent = equivalentKernel(b, kernel, w1);
                    kernel.assign(equivalent);
                    release(equivalent);
                }
            }
            release(scratch);
        });
    }

    private static void release(INDArray temporary) {
        if (temporary != null && temporary.closeable()) {
            temporary.close();
        }
    }

    /** @return the shape of the block's kernel as DL4J stores it: {@code [out, in, k, k]}, depthwise {@code [k, k, C, 1]} */
    static long[] dl4jShape(BlockScales b) {
        int k = b.kernel();
        return b.depthwise() ? new long[]{k, k, b.outChannels(), 1} : GradMult.shape(b);
    }

    /**
     * The Rule of Initialization as a pure function, in the kernels' data type.
     *
     * @param b  the block's scales
     * @param w  the k x k kernel: {@code [out, in, k, k]}; depthwise {@code [C, 1, k, k]} (PyTorch's layout) or
     *           {@code [k, k, C, 1]} (DL4J's)
     * @param w1 the 1x1 kernel, {@code [out, in]} or {@code [out, in, 1, 1]}, for a block with a 1x1 branch;
     *           {@code null} for a block without
     * @return a new kernel {@code s_k[o] * W + pad_c(s1[o] * W1) [+ pad_c(I * sid[o])]} in the layout of {@code w}
     * @throws IllegalArgumentException where the shapes do not match the block
     */
    public static INDArray equivalentKernel(BlockScales b, INDArray w, INDArray w1) {
        boolean dl4jDepthwise = requireShapes(b, w, w1);
        INDArray torchLayout = dl4jDepthwise ? w.permute(2, 3, 0, 1).dup('c') : w.dup('c');
        INDArray out = CentreTapAlgebra.apply(torchLayout, b.scaleConv(), w1, b.scale1x1(), b.scaleIdentity());
        if (!dl4jDepthwise) {
            return out;
        }
        INDArray dl4jLayout = out.permute(2, 3, 0, 1).dup('c');
        release(out);
        return dl4jLayout;
    }

    /**
     * @return whether {@code w} is a depthwise kernel in DL4J's layout {@code [k, k, C, 1]}
     * @throws IllegalArgumentException where the shapes do not match the block (see {@link #equivalentKernel})
     */
    private static boolean requireShapes(BlockScales b, INDArray w, INDArray w1) {
        long[] torch = GradMult.shape(b);
        boolean dl4jDepthwise = b.depthwise() && Arrays.equals(w.shape(), dl4jShape(b));
        long expected1x1 = (long) b.outChannels() * b.inChannels();
        if (!(dl4jDepthwise || Arrays.equals(w.shape(), torch))
                || (b.hasConv1x1() ? w1 == null || w1.length() != expected1x1 : w1 != null)) {
            throw new IllegalArgumentException("block " + b.block() + ": expected a kernel " + Arrays.toString(torch)
                    + (b.depthwise() ? " or " + Arrays.toString(dl4jShape(b)) : "")
                    + (b.hasConv1x1() ? " and a 1x1 kernel of " + expected1x1 + " values" : " and no 1x1 kernel")
                    + ", got " + Arrays.toString(w.shape()) + " and "
                    + (w1 == null ? "none" : Arrays.toString(w1.shape())));
        }
        return dl4jDepthwise;
    }

    /**
     * Runs {@code work} on a worker thread whose ND4J generator is seeded with {@code seed}, outside workspaces, and
     * waits for it: the 1x1 kernels drawn there (each with its conv's own weight init, in the networks' layer order)
     * are the same for every caller, and the caller's generator is neither re-seeded nor advanced.
     */
    private static void onSeededWorker(long seed, Runnable work) {
        AtomicReference<RuntimeException> failure = new AtomicReference<>();
        Thread worker = new Thread(() -> {
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                Nd4jRandom.reseed(seed);
                work.run();
            } catch (RuntimeException e) {
                failure.set(e);
            }
        }, "repopt-reinit");
        worker.start();
        try {
            worker.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while applying the Rule of Initialization", e);
        }
        if (failure.get() != null) {
            throw failure.get();
        }
    }

    /** @return a fresh 1x1 kernel {@code [out, in]} drawn into the start of {@code scratch} (a view of it) */
    private static INDArray fresh1x1(Layer layer, int out, int in, INDArray scratch) {
        IWeightInit init = ((ConvolutionLayer) layer.conf().getLayer()).getWeightInitFn();
        long n = (long) out * in;
        INDArray view = scratch.get(NDArrayIndex.interval(0, n)).reshape(1, n);
        return init.init(in, out, new long[]{out, in, 1, 1}, 'c', view);
    }

    /**
     * @param net a network
     * @throws IllegalStateException naming the first sign that {@code net} is not fresh from {@code init()}
     */
    public static void requireFresh(MultiLayerNetwork net) {
        refuseIf(whyNotFresh(net));
    }

    /**
     * @param net a network
     * @return why {@code net} is not fresh from {@code init()}, or {@code null} when it is
     */
    public static String whyNotFresh(MultiLayerNetwork net) {
        return whyNotFresh(net.getLayerWiseConfigurations().getIterationCount(),
                net.getLayerWiseConfigurations().getEpochCount(), net.getLayers());
    }

    private static void refuseIf(String why) {
        if (why != null) {
            throw new IllegalStateException("refusing to re-initialize: " + why + ". Re-initialization is for "
                    + "training from scratch; to fine-tune a trained or restored network keep its weights "
                    + "(RepOptimizer...fineTune())");
        }
    }

    /**
     * @param net a network
     * @throws IllegalStateException naming the first sign that {@code net} is not fresh from {@code init()}
     */
    public static void requireFresh(ComputationGraph net) {
        refuseIf(whyNotFresh(net));
    }

    /**
     * @param net a network
     * @return why {@code net} is not fresh from {@code init()}, or {@code null} when it is
     */
    public static String whyNotFresh(ComputationGraph net) {
        return whyNotFresh(net.getConfiguration().getIterationCount(), net.getConfiguration().getEpochCount(),
                net.getLayers());
    }

    private static String whyNotFresh(int iterations, int epochs, Layer[] layers) {
        if (iterations > 0 || epochs > 0) {
            return "the network has trained (iteration count " + iterations + ", epoch count " + epochs + ")";
        }
        for (Layer l : layers) {
            if (!(l instanceof org.deeplearning4j.nn.layers.normalization.BatchNormalization)) {
                continue;
            }
            String name = l.conf().getLayer().getLayerName();
            Map<String, INDArray> p = l.paramTable();
            String bad = differs(p, BatchNormalizationParamInitializer.GAMMA, 1.0);
            if (bad == null) {
                bad = differs(p, BatchNormalizationParamInitializer.BETA, 0.0);
            }
            if (bad == null) {
                bad = differs(p, BatchNormalizationParamInitializer.GLOBAL_MEAN, 0.0);
            }
            if (bad == null) {
                bad = differs(p, BatchNormalizationParamInitializer.GLOBAL_VAR, 1.0);
            }
            if (bad != null) {
                return "BatchNormalization layer '" + name + "' has " + bad + " (a trained, restored or pretrained network)";
            }
        }
        return null;
    }

    private static String differs(Map<String, INDArray> params, String key, double fresh) {
        INDArray p = params.get(key);
        if (p == null) {
            return null;
        }
        double dev = p.sub(fresh).amaxNumber().doubleValue();
        return dev == 0 ? null : key + " != " + fresh;
    }
}
