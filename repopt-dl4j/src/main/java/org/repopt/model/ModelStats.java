package org.repopt.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.repopt.nn.ChannelScaleLayer;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Size and cost of a network, computed from its configuration alone (nothing is allocated, so the L2 variant is
 * as cheap as the small one).
 *
 * @param trainableParams     parameters an optimizer updates: weights, biases, BatchNorm gamma/beta and trainable
 *                            channel scales; not BatchNorm running statistics, not constant scales
 * @param multiplyAccumulates multiply-accumulates (MACs) of the convolutions and the linear layer per image: what
 *                            the paper's "FLOPs" column counts (one MAC is two floating-point operations)
 */
public record ModelStats(long trainableParams, long multiplyAccumulates) {

    /**
     * @param conf       a graph configuration
     * @param inputTypes its input types (e.g. {@code InputType.convolutional(224, 224, 3)})
     * @return its size and cost
     */
    public static ModelStats of(ComputationGraphConfiguration conf, InputType... inputTypes) {
        Map<String, InputType> outputs = conf.getLayerActivationTypes(inputTypes);
        Map<String, List<String>> inputs = conf.getVertexInputs();
        long params = 0;
        long macs = 0;
        for (Map.Entry<String, GraphVertex> e : conf.getVertices().entrySet()) {
            if (!(e.getValue() instanceof LayerVertex)) {
                continue;
            }
            Layer layer = ((LayerVertex) e.getValue()).getLayerConf().getLayer();
            params += trainable(layer);
            if (layer instanceof ConvolutionLayer) {
                ConvolutionLayer c = (ConvolutionLayer) layer;
                InputType.InputTypeConvolutional out = (InputType.InputTypeConvolutional) outputs.get(e.getKey());
                long inPerOutput = layer instanceof DepthwiseConvolution2D ? 1 : c.getNIn(); // groups = channels
                macs += out.getHeight() * out.getWidth() * c.getNOut() * inPerOutput
                        * c.getKernelSize()[0] * c.getKernelSize()[1];
            } else if (layer instanceof DenseLayer || layer instanceof OutputLayer) {
                FeedForwardLayer f = (FeedForwardLayer) layer;
                macs += f.getNIn() * f.getNOut();
            }
        }
        return new ModelStats(params, macs);
    }

    /**
     * @param model a model of the family
     * @return its size and cost at its spec's input shape
     */
    public static ModelStats of(VggModel model) {
        VggSpec s = model.spec();
        return of(model.conf(), InputType.convolutional(s.inputHeight(), s.inputWidth(), s.inputChannels()));
    }

    /**
     * @param model a RepOpt-GhostNet
     * @return its size and cost at its spec's input shape
     */
    public static ModelStats of(RepOptGhostNet model) {
        return of(model.conf(), model.inputType());
    }

    private static long trainable(Layer layer) {
        if (!(layer instanceof BaseLayer)) {
            return 0;
        }
        long n = layer.initializer().numParams(layer);
        if (layer instanceof BatchNormalization) {
            // running mean and variance (or log std) are statistics, not parameters
            return n - 2 * ((BatchNormalization) layer).getNOut();
        }
        if (layer instanceof ChannelScaleLayer && !((ChannelScaleLayer) layer).isTrainable()) {
            return 0;
        }
        return n;
    }

    /** @return e.g. {@code params=51.84M  macs=11.8G} (multiply-accumulates in M below one G) */
    public String describe() {
        String m = multiplyAccumulates >= 1e9 ? String.format(Locale.ROOT, "%.1fG", multiplyAccumulates / 1e9)
                : String.format(Locale.ROOT, "%.1fM", multiplyAccumulates / 1e6);
        return String.format(Locale.ROOT, "params=%.2fM  macs=%s", trainableParams / 1e6, m);
    }
}
