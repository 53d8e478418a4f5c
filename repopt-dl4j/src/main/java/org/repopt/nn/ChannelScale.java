package org.repopt.nn;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.BaseLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.factory.Nd4j;

import java.util.stream.IntStream;

/** The running layer of a {@link ChannelScaleLayer} configuration. */
public class ChannelScale extends BaseLayer<ChannelScaleLayer> {

    private static final long serialVersionUID = 1L;

    /**
     * @param conf     the layer's configuration
     * @param dataType the network's data type
     */
    public ChannelScale(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    private int channelAxis(INDArray x) {
        return x.rank() == 4 && layerConf().getDataFormat() == CNN2DFormat.NHWC ? 3 : 1;
    }

    private INDArray scaled(INDArray x, INDArray out) {
        INDArray s = getParam(ChannelScaleParamInitializer.SCALE_KEY);
        int axis = channelAxis(x);
        if (x.size(axis) != s.length()) {
            throw new IllegalStateException("layer '" + layerConf().getLayerName() + "': input has " + x.size(axis)
                    + " channels on axis " + axis + ", expected " + s.length());
        }
        Nd4j.getExecutioner().exec(new BroadcastMulOp(x, s.reshape(s.length()), out, axis));
        return out;
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(false);
        INDArray x = input.castTo(dataType);
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, dataType, x.shape(), 'c');
        return scaled(x, out);
    }

    @Override
    public INDArray preOutput(boolean training, LayerWorkspaceMgr workspaceMgr) {
        return activate(training, workspaceMgr);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(true);
        INDArray x = input.castTo(dataType);
        INDArray eps = epsilon.castTo(dataType);
        INDArray grad = gradientViews.get(ChannelScaleParamInitializer.SCALE_KEY);
        if (layerConf().isTrainable()) {
            int axis = channelAxis(x);
            int[] others = IntStream.range(0, x.rank()).filter(d -> d != axis).toArray();
            grad.assign(eps.mul(x).sum(others).reshape(grad.shape()));
        } else {
            grad.assign(0);
        }
        Gradient g = new DefaultGradient();
        g.gradientForVariable().put(ChannelScaleParamInitializer.SCALE_KEY, grad);
        INDArray epsNext = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, dataType, eps.shape(), 'c');
        return new Pair<>(g, scaled(eps, epsNext));
    }

    @Override
    public boolean isPretrainLayer() {
        return false;
    }

    @Override
    public boolean hasBias() {
        return false;
    }

    @Override
    public Type type() {
        return Type.CONVOLUTIONAL;
    }
}
