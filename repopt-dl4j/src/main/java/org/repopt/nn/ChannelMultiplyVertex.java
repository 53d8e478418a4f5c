package org.repopt.nn;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.inputs.InvalidInputTypeException;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Objects;

/**
 * Multiplies every channel of a feature map by a per-example, per-channel factor computed by the graph:
 * {@code y[n,c,h,w] = x[n,c,h,w] * g[n,c]}. This is how a squeeze-and-excitation block applies its gate, which
 * DL4J's {@code ElementWiseVertex(Product)} refuses (it wants equal shapes).
 *
 * <p>Inputs, in order: the feature map {@code x} (CNN), then the gate {@code g}: CNN of the same channels and
 * format with a 1x1 map (global pooling with {@code collapseDimensions(false)}, then 1x1 convs), or feed-forward
 * of size {@code C} (for NHWC feature maps, say so with the constructor's format). The output has {@code x}'s
 * type. Gradients: {@code dL/dx = eps * g} and {@code dL/dg[n,c] = sum over h,w of eps * x}. No parameters;
 * serializable like any DL4J vertex.
 */
public class ChannelMultiplyVertex extends GraphVertex {

    private static final long serialVersionUID = 1L;

    private CNN2DFormat dataFormat = CNN2DFormat.NCHW;

    /** For NCHW feature maps (DL4J's default). */
    public ChannelMultiplyVertex() {
    }

    /** @param dataFormat the channel axis of the feature map, used where the gate is feed-forward */
    public ChannelMultiplyVertex(CNN2DFormat dataFormat) {
        this.dataFormat = Objects.requireNonNull(dataFormat, "dataFormat");
    }

    /** @return the feature map's format */
    public CNN2DFormat getDataFormat() {
        return dataFormat;
    }

    @Override
    public ChannelMultiplyVertex clone() {
        return new ChannelMultiplyVertex(dataFormat);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ChannelMultiplyVertex && ((ChannelMultiplyVertex) o).dataFormat == dataFormat;
    }

    @Override
    public int hashCode() {
        return Objects.hash(ChannelMultiplyVertex.class, dataFormat);
    }

    @Override
    public long numParams(boolean backprop) {
        return 0;
    }

    @Override
    public int minVertexInputs() {
        return 2;
    }

    @Override
    public int maxVertexInputs() {
        return 2;
    }

    @Override
    public org.deeplearning4j.nn.graph.vertex.GraphVertex instantiate(ComputationGraph graph, String name, int idx,
                                                                      INDArray paramsView, boolean initializeParams,
                                                                      DataType networkDatatype) {
        return new ChannelMultiply(graph, name, idx, dataFormat, networkDatatype);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType... in) throws InvalidInputTypeException {
        if (in.length != 2) {
            throw new InvalidInputTypeException("channel multiply vertex: needs 2 inputs (feature map, gate), got "
                    + in.length);
        }
        if (!(in[0] instanceof InputType.InputTypeConvolutional)) {
            throw new InvalidInputTypeException("channel multiply vertex: the first input must be a CNN feature map, got "
                    + in[0]);
        }
        InputType.InputTypeConvolutional x = (InputType.InputTypeConvolutional) in[0];
        long gateChannels;
        if (in[1] instanceof InputType.InputTypeConvolutional) {
            InputType.InputTypeConvolutional g = (InputType.InputTypeConvolutional) in[1];
            if (g.getHeight() != 1 || g.getWidth() != 1 || g.getFormat() != x.getFormat()) {
                throw new InvalidInputTypeException("channel multiply vertex: a CNN gate must be 1x1 in the feature "
                        + "map's format " + x.getFormat() + ", got " + g);
            }
            gateChannels = g.getChannels();
        } else if (in[1] instanceof InputType.InputTypeFeedForward) {
            if (x.getFormat() != dataFormat) {
                throw new InvalidInputTypeException("channel multiply vertex: configured for " + dataFormat
                        + " feature maps, got " + x);
            }
            gateChannels = ((InputType.InputTypeFeedForward) in[1]).getSize();
        } else {
            throw new InvalidInputTypeException("channel multiply vertex: the gate must be CNN (1x1) or feed-forward, "
                    + "got " + in[1]);
        }
        if (gateChannels != x.getChannels()) {
            throw new InvalidInputTypeException("channel multiply vertex: the gate has " + gateChannels
                    + " channels, the feature map " + x.getChannels());
        }
        return x;
    }

    @Override
    public MemoryReport getMemoryReport(InputType... inputTypes) {
        // the backward pass holds one feature-map-sized product (eps * x) while it sums it
        return new LayerMemoryReport.Builder(null, ChannelMultiplyVertex.class, inputTypes[0], inputTypes[0])
                .standardMemory(0, 0).workingMemory(0, 0, 0, inputTypes[0].arrayElementsPerExample())
                .cacheMemory(0, 0).build();
    }

    @Override
    public String toString() {
        return "ChannelMultiplyVertex(" + dataFormat + ")";
    }
}
