package org.repopt.nn;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.BaseGraphVertex;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/** The running vertex of a {@link ChannelMultiplyVertex}. */
public class ChannelMultiply extends BaseGraphVertex {

    private static final long serialVersionUID = 1L;

    private final CNN2DFormat dataFormat;

    /**
     * @param graph      the graph
     * @param name       the vertex's name
     * @param index      the vertex's index
     * @param dataFormat the feature map's format
     * @param dataType   the network's data type
     */
    public ChannelMultiply(ComputationGraph graph, String name, int index, CNN2DFormat dataFormat, DataType dataType) {
        super(graph, name, index, null, null, dataType);
        this.dataFormat = dataFormat;
    }

    @Override
    public boolean hasLayer() {
        return false;
    }

    @Override
    public Layer getLayer() {
        return null;
    }

    /** @return the feature map's batch and channel axes */
    private int[] exampleAndChannelAxes() {
        return dataFormat == CNN2DFormat.NHWC ? new int[]{0, 3} : new int[]{0, 1};
    }

    /** @return the feature map's spatial axes */
    private int[] spatialAxes() {
        return dataFormat == CNN2DFormat.NHWC ? new int[]{1, 2} : new int[]{2, 3};
    }

    /** The gate as {@code [N, C]}, checked against the feature map. */
    private INDArray gateMatrix(INDArray x, INDArray gate) {
        int[] nc = exampleAndChannelAxes();
        long n = x.size(nc[0]);
        long c = x.size(nc[1]);
        boolean fits = x.rank() == 4 && gate.length() == n * c && gate.size(0) == n
                && (gate.rank() == 2 || (gate.rank() == 4 && gate.size(nc[1]) == c));
        if (!fits) {
            throw new IllegalStateException("vertex '" + vertexName + "': the gate " + Arrays.toString(gate.shape())
                    + " does not fit the feature map " + Arrays.toString(x.shape()) + " (" + dataFormat
                    + "): expected [N, C] or a 1x1 map of C channels");
        }
        return gate.rank() == 2 ? gate : gate.reshape('c', n, c);
    }

    @Override
    public INDArray doForward(boolean training, LayerWorkspaceMgr workspaceMgr) {
        if (!canDoForward()) {
            throw new IllegalStateException("vertex '" + vertexName + "': inputs not set");
        }
        INDArray x = inputs[0].castTo(dataType);
        INDArray g = gateMatrix(x, inputs[1].castTo(dataType));
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, dataType, x.shape(), 'c');
        Nd4j.getExecutioner().exec(new BroadcastMulOp(x, g, out, exampleAndChannelAxes()));
        return out;
    }

    @Override
    public Pair<Gradient, INDArray[]> doBackward(boolean tbptt, LayerWorkspaceMgr workspaceMgr) {
        if (!canDoBackward()) {
            throw new IllegalStateException("vertex '" + vertexName + "': epsilon not set");
        }
        INDArray x = inputs[0].castTo(dataType);
        INDArray gate = inputs[1].castTo(dataType);
        INDArray g = gateMatrix(x, gate);
        INDArray eps = epsilon.castTo(dataType);
        INDArray dx = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, dataType, x.shape(), 'c');
        Nd4j.getExecutioner().exec(new BroadcastMulOp(eps, g, dx, exampleAndChannelAxes()));
        INDArray dGate = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, dataType, gate.shape(), 'c');
        dGate.assign(eps.mul(x).sum(spatialAxes()).reshape('c', gate.shape()));
        return new Pair<>(null, new INDArray[]{dx, dGate});
    }

    @Override
    public void setBackpropGradientsViewArray(INDArray backpropGradientsViewArray) {
        if (backpropGradientsViewArray != null) {
            throw new IllegalStateException("vertex '" + vertexName + "' has no parameters");
        }
    }

    @Override
    public Pair<INDArray, MaskState> feedForwardMaskArrays(INDArray[] maskArrays, MaskState currentMaskState,
                                                           int minibatchSize) {
        return new Pair<>(maskArrays == null ? null : maskArrays[0], currentMaskState);
    }

    @Override
    public String toString() {
        return "ChannelMultiply(" + vertexName + ", " + dataFormat + ")";
    }
}
