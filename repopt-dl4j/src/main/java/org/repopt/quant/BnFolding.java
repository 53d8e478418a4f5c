package org.repopt.quant;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.repopt.model.BatchNormAffine;
import org.repopt.nn.ConvBnReluFusion;
import org.repopt.nn.ParamValues;

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
     * @param trained a trained plain VGG (blocks with or without batch normalization, or fused conv-BN-ReLU layers)
     * @return a new graph without batch normalization whose convolutions all have a bias; blocks that had no batch
     * normalization keep their convolution unchanged. The new graph's updater state is fresh: it is a model to
     * deploy, not a training checkpoint.
     * @throws IllegalArgumentException if the graph is not a plain VGG
     */
    public static ComputationGraph fold(ComputationGraph trained) {
        // Fused conv-BN-ReLU layers are split into DL4J's three layers first (same parameters).
        ComputationGraph graph = ConvBnReluFusion.unfuse(trained);
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
        String name = conv.conf().getLayer().getLayerName();
        double[] w = ParamValues.of(conv.getParam(ConvolutionParamInitializer.WEIGHT_KEY));
        BatchNormAffine affine = BatchNormAffine.of(bn);
        int channels = affine.channels();
        INDArray convBias = conv.getParam(ConvolutionParamInitializer.BIAS_KEY);
        double[] b = convBias == null ? new double[channels] : ParamValues.of(convBias);
        if (w.length % channels != 0 || b.length != channels) {
            throw new IllegalStateException("conv '" + name + "': " + w.length + " weights and " + b.length
                    + " biases do not match batch norm '" + bn.conf().getLayer().getLayerName() + "' with "
                    + channels + " channels");
        }
        int perChannel = w.length / channels;
        double[] bias = new double[channels];
        for (int o = 0; o < channels; o++) {
            double k = affine.scale()[o];
            for (int i = o * perChannel; i < (o + 1) * perChannel; i++) {
                w[i] *= k;
            }
            bias[o] = affine.shift()[o] + b[o] * k;
        }
        ParamValues.assign(target.getParam(ConvolutionParamInitializer.WEIGHT_KEY), w);
        ParamValues.assign(target.getParam(ConvolutionParamInitializer.BIAS_KEY), bias);
    }
}
