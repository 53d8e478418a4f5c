package org.repopt.quant;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Folds every inference-mode batch normalization of a {@linkplain PlainVgg plain VGG} into the convolution before
 * it, giving the deployable graph: per output channel {@code o},
 * <pre>
 *   k[o]      = gamma[o] / sqrt(var[o] + eps)
 *   W'[o,...] = W[o,...] * k[o]
 *   b'[o]     = beta[o] + (b[o] - mean[o]) * k[o]        (b = 0 for a convolution without bias)
 * </pre>
 * with the running mean and variance (stored as a variance or, with {@code useLogStd}, as {@code log10(std)}) and
 * the layer's own {@code eps}. The result computes the original graph's inference outputs exactly up to
 * floating-point rounding. Folding is pure: the input graph is never modified.
 */
public final class BnFolding {

    private BnFolding() {
    }

    /**
     * @param graph a trained plain VGG (blocks with or without batch normalization)
     * @return a new graph without batch normalization whose convolutions all have a bias; blocks that had no batch
     * normalization keep their convolution unchanged. The new graph's updater state is fresh: it is a model to
     * deploy, not a training checkpoint.
     * @throws IllegalArgumentException if the graph is not a plain VGG
     */
    public static ComputationGraph fold(ComputationGraph graph) {
        PlainVgg vgg = PlainVgg.of(graph);
        ComputationGraphConfiguration conf = graph.getConfiguration().clone();
        Set<String> folded = new HashSet<>();
        for (PlainVgg.Block b : vgg.blocks()) {
            if (b.batchNorm().isEmpty()) {
                continue;
            }
            String bn = b.batchNorm().get();
            LayerVertex cv = (LayerVertex) conf.getVertices().get(b.conv());
            ((ConvolutionLayer) cv.getLayerConf().getLayer()).setHasBias(true);
            // The parameter list is rebuilt at init, now with the bias.
            cv.getLayerConf().clearVariables();
            conf.getVertices().remove(bn);
            conf.getVertexInputs().remove(bn);
            conf.getVertexInputs().put(b.relu(), new ArrayList<>(List.of(b.conv())));
            folded.add(b.conv());
        }
        ComputationGraph out = GraphEdit.build(conf);
        GraphEdit.copyParams(graph, out, folded);
        for (PlainVgg.Block b : vgg.blocks()) {
            if (b.batchNorm().isPresent()) {
                foldInto(graph.getLayer(b.conv()), graph.getLayer(b.batchNorm().get()), out.getLayer(b.conv()));
            }
        }
        return out;
    }

    private static void foldInto(Layer conv, Layer bn, Layer target) {
        BatchNormalization bnConf = (BatchNormalization) bn.conf().getLayer();
        String name = conv.conf().getLayer().getLayerName();
        double[] w = GraphEdit.values(conv.getParam(ConvolutionParamInitializer.WEIGHT_KEY));
        double[] gamma = GraphEdit.values(bn.getParam(BatchNormalizationParamInitializer.GAMMA));
        double[] beta = GraphEdit.values(bn.getParam(BatchNormalizationParamInitializer.BETA));
        double[] mean = GraphEdit.values(bn.getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN));
        double[] var = variance(bn, bnConf);
        int channels = gamma.length;
        INDArray convBias = conv.getParam(ConvolutionParamInitializer.BIAS_KEY);
        double[] b = convBias == null ? new double[channels] : GraphEdit.values(convBias);
        if (w.length % channels != 0 || b.length != channels || mean.length != channels || var.length != channels) {
            throw new IllegalStateException("conv '" + name + "': " + w.length + " weights and " + b.length
                    + " biases do not match batch norm '" + bnConf.getLayerName() + "' with " + channels + " channels");
        }
        int perChannel = w.length / channels;
        double[] bias = new double[channels];
        for (int o = 0; o < channels; o++) {
            double k = gamma[o] / Math.sqrt(var[o] + bnConf.getEps());
            for (int i = o * perChannel; i < (o + 1) * perChannel; i++) {
                w[i] *= k;
            }
            bias[o] = beta[o] + (b[o] - mean[o]) * k;
        }
        GraphEdit.assign(target.getParam(ConvolutionParamInitializer.WEIGHT_KEY), w);
        GraphEdit.assign(target.getParam(ConvolutionParamInitializer.BIAS_KEY), bias);
    }

    private static double[] variance(Layer bn, BatchNormalization conf) {
        if (!conf.isUseLogStd()) {
            return GraphEdit.values(bn.getParam(BatchNormalizationParamInitializer.GLOBAL_VAR));
        }
        // DL4J stores log10(std) and computes var = (10^log10std)^2 at inference.
        double[] log10Std = GraphEdit.values(bn.getParam(BatchNormalizationParamInitializer.GLOBAL_LOG_STD));
        double[] var = new double[log10Std.length];
        for (int i = 0; i < var.length; i++) {
            double std = Math.pow(10.0, log10Std[i]);
            var[i] = std * std;
        }
        return var;
    }
}
