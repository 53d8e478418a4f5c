package org.repopt.gr;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.repopt.nn.ChannelScaleParamInitializer;
import org.repopt.nn.ParamValues;

import java.util.Objects;

/**
 * Where one CSLA block's branches live in a network (docs/METHOD.md#csla-block), by layer name, and what a network
 * holds there now: the block's current scales and the plain kernel it is equivalent to. The one reader of a CSLA
 * network, whatever names its builder gives the layers ({@code CslaVgg}: the model family's names; {@code CslaTwin}:
 * the user's conv and {@code gr.<conv>.<role>}).
 *
 * @param conv          the {@code k x k} conv
 * @param conv1x1       the 1x1 branch's conv (read only for a block with a 1x1 branch)
 * @param scaleConv     the scale layer of the {@code k x k} branch
 * @param scale1x1      the scale layer of the 1x1 branch (read only for a block with a 1x1 branch)
 * @param scaleIdentity the scale layer of the identity branch (read only for a block with an identity branch)
 * @param notFound      what a network lacking one of these layers is not, for the error (e.g. {@code "not a
 *                      Hyper-Search network of this architecture"})
 */
public record CslaBlockLayers(String conv, String conv1x1, String scaleConv, String scale1x1, String scaleIdentity,
                              String notFound) {

    /** Every name given. */
    public CslaBlockLayers {
        Objects.requireNonNull(conv, "conv");
        Objects.requireNonNull(conv1x1, "conv1x1");
        Objects.requireNonNull(scaleConv, "scaleConv");
        Objects.requireNonNull(scale1x1, "scale1x1");
        Objects.requireNonNull(scaleIdentity, "scaleIdentity");
        Objects.requireNonNull(notFound, "notFound");
    }

    /**
     * @param net   a network holding this block
     * @param shape the block's name, channels, stride, kernel, groups and branches (its scale values are not read)
     * @return the block as {@code shape} with the scales {@code net} holds now
     * @throws IllegalArgumentException where {@code net} lacks one of the block's scale layers
     */
    public BlockScales currentScales(ComputationGraph net, BlockScales shape) {
        return new BlockScales(shape.block(), shape.inChannels(), shape.outChannels(), shape.stride(), shape.kernel(),
                shape.groups(), scalesOf(net, scaleConv, notFound),
                shape.hasConv1x1() ? scalesOf(net, scale1x1, notFound) : null,
                shape.hasIdentity() ? scalesOf(net, scaleIdentity, notFound) : null);
    }

    /**
     * The Rule of Initialization applied to the block's state in {@code net} (docs/METHOD.md#rule-of-initialization).
     *
     * @param net     a network holding this block
     * @param current the block with the scales {@code net} holds ({@link #currentScales})
     * @return the plain kernel the block is equivalent to, in DL4J's layout of the {@code k x k} conv's kernel
     * @throws IllegalArgumentException where {@code net} lacks the block's convs or their kernels do not fit
     */
    public INDArray equivalentKernel(ComputationGraph net, BlockScales current) {
        INDArray w = layer(net, conv, notFound).getParam(ConvolutionParamInitializer.WEIGHT_KEY);
        INDArray w1 = current.hasConv1x1()
                ? layer(net, conv1x1, notFound).getParam(ConvolutionParamInitializer.WEIGHT_KEY) : null;
        return Reinit.equivalentKernel(current, w, w1);
    }

    /**
     * @param net       a network
     * @param layerName one of its {@code ChannelScaleLayer}s
     * @param notFound  what a network without that layer is not, for the error
     * @return the layer's scales now, per channel
     * @throws IllegalArgumentException {@code "the network has no layer '<name>': <notFound>"}
     */
    public static double[] scalesOf(ComputationGraph net, String layerName, String notFound) {
        return ParamValues.of(layer(net, layerName, notFound).getParam(ChannelScaleParamInitializer.SCALE_KEY));
    }

    private static Layer layer(ComputationGraph net, String layerName, String notFound) {
        // not net.getLayer(name): it throws an IllegalStateException without the context for a missing name
        GraphVertex v = net.getVertex(layerName);
        if (v == null || !v.hasLayer()) {
            throw new IllegalArgumentException("the network has no layer '" + layerName + "': " + notFound);
        }
        return v.getLayer();
    }
}
