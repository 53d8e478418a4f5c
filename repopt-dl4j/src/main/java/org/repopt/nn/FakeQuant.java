package org.repopt.nn;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.AbstractLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Rint;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/** The running layer of a {@link FakeQuantLayer} configuration. */
public class FakeQuant extends AbstractLayer<FakeQuantLayer> {

    private static final long serialVersionUID = 1L;

    /**
     * @param conf     the layer's configuration
     * @param dataType the network's data type
     */
    public FakeQuant(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(false);
        FakeQuantLayer c = layerConf();
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, dataType, input.shape(), 'c');
        // Division (not multiplication by 1/scale) keeps values already on the grid exactly on it.
        out.assign(input.castTo(dataType)).divi(c.getScale());
        Nd4j.getExecutioner().exec(new Rint(out, out));
        Transforms.max(out, c.getGridMin(), false);
        Transforms.min(out, c.getGridMax(), false);
        return out.muli(c.getScale());
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(true);
        FakeQuantLayer c = layerConf();
        INDArray x = input.castTo(dataType);
        // Straight-through estimator: rounding passes the gradient, clamping stops it.
        INDArray inside = Transforms.and(x.gte(c.getGridMin() * c.getScale()), x.lte(c.getGridMax() * c.getScale()))
                .castTo(dataType);
        INDArray delta = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, dataType, epsilon.shape(), 'c');
        delta.assign(epsilon.castTo(dataType)).muli(inside);
        return new Pair<>(new DefaultGradient(), delta);
    }

    @Override
    public double calcRegularizationScore(boolean backpropParamsOnly) {
        return 0;
    }

    @Override
    public boolean isPretrainLayer() {
        return false;
    }

    @Override
    public void clearNoiseWeightParams() {
        // No parameters, so no noise.
    }

    @Override
    public INDArray params() {
        return null;
    }

    @Override
    public Type type() {
        return Type.FEED_FORWARD;
    }
}
