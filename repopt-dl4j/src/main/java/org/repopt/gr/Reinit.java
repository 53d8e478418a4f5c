package org.repopt.gr;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.weights.IWeightInit;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.Map;

/**
 * The Rule of Initialization (Ding et al., ICLR 2023, section 3.2; REFERENCE section 4): writes into each assigned
 * conv the kernel its CSLA block would start from,
 * <pre>{@code W' = s3[o] * W3 + pad1(s1[o] * W1) [+ pad1(I * sid[o])]}</pre>
 * where {@code W3} is the conv's own fresh init and {@code W1} a fresh 1x1 kernel drawn with the conv's weight
 * init (fan-in {@code in}, fan-out {@code out}).
 *
 * <p>Re-initialization only makes sense for a network about to be trained from scratch. A network that has
 * trained (iteration or epoch count above 0) or whose BatchNorm layers left their initial state (gamma 1, beta 0,
 * running mean 0, running variance 1), as a restored or pretrained one has, is refused: fine-tuning must keep its
 * weights (the reference code's users stumble on exactly this, REFERENCE section 9).
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
        requireFresh(net);
        Nd4j.getRandom().setSeed(seed);
        for (Map.Entry<String, BlockScales> e : assignment.byLayer().entrySet()) {
            reinitialize(net, e.getKey(), e.getValue());
        }
    }

    private static void reinitialize(ComputationGraph net, String layerName, BlockScales b) {
        Layer layer = net.getLayer(layerName);
        if (layer == null) {
            throw new IllegalArgumentException("block " + b.block() + ": the network has no layer '" + layerName + "'");
        }
        INDArray kernel = layer.getParam(ConvolutionParamInitializer.WEIGHT_KEY);
        int out = b.outChannels();
        int in = b.inChannels();
        long[] expected = {out, in, 3, 3};
        if (!Arrays.equals(kernel.shape(), expected)) {
            throw new IllegalArgumentException("block " + b.block() + " (layer '" + layerName + "'): kernel shape "
                    + Arrays.toString(kernel.shape()) + ", expected " + Arrays.toString(expected));
        }
        kernel.assign(equivalentKernel(b, kernel, fresh1x1(layer, out, in)));
    }

    /**
     * The Rule of Initialization as a pure function, in the kernels' data type.
     *
     * @param b  the block's scales
     * @param w3 a 3x3 kernel {@code [out, in, 3, 3]}
     * @param w1 a 1x1 kernel, {@code [out, in]} or {@code [out, in, 1, 1]}
     * @return a new kernel {@code s3[o] * W3 + pad1(s1[o] * W1) [+ pad1(I * sid[o])]}, {@code [out, in, 3, 3]}
     * @throws IllegalArgumentException where the shapes do not match the block
     */
    public static INDArray equivalentKernel(BlockScales b, INDArray w3, INDArray w1) {
        long[] expected = {b.outChannels(), b.inChannels(), 3, 3};
        if (!Arrays.equals(w3.shape(), expected) || w1.length() != (long) b.outChannels() * b.inChannels()) {
            throw new IllegalArgumentException("block " + b.block() + ": expected a 3x3 kernel " + Arrays.toString(expected)
                    + " and a 1x1 kernel of " + ((long) b.outChannels() * b.inChannels()) + " values, got "
                    + Arrays.toString(w3.shape()) + " and " + Arrays.toString(w1.shape()));
        }
        return CentreTapAlgebra.apply(w3.dup('c'), b.scaleConv(), w1, b.scale1x1(), b.scaleIdentity());
    }

    private static INDArray fresh1x1(Layer layer, int out, int in) {
        IWeightInit init = ((ConvolutionLayer) layer.conf().getLayer()).getWeightInitFn();
        INDArray view = Nd4j.create(layer.getParam(ConvolutionParamInitializer.WEIGHT_KEY).dataType(), 1,
                (long) out * in);
        return init.init(in, out, new long[]{out, in, 1, 1}, 'c', view);
    }

    /**
     * @param net a network
     * @throws IllegalStateException naming the first sign that {@code net} is not fresh from {@code init()}
     */
    public static void requireFresh(ComputationGraph net) {
        String why = whyNotFresh(net);
        if (why != null) {
            throw new IllegalStateException("refusing to re-initialize: " + why + ". Re-initialization is for "
                    + "training from scratch; to fine-tune a trained or restored network keep its weights "
                    + "(RepOptimizer...fineTune())");
        }
    }

    /**
     * @param net a network
     * @return why {@code net} is not fresh from {@code init()}, or {@code null} when it is
     */
    public static String whyNotFresh(ComputationGraph net) {
        int iterations = net.getConfiguration().getIterationCount();
        int epochs = net.getConfiguration().getEpochCount();
        if (iterations > 0 || epochs > 0) {
            return "the network has trained (iteration count " + iterations + ", epoch count " + epochs + ")";
        }
        for (Layer l : net.getLayers()) {
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
