package org.repopt.nn;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ActivationTorchHardSigmoidTest {

    private static final double[] X = {-7, -3, -2.999, -1, 0, 0.5, 1, 2.5, 2.999, 3, 9};

    /** PyTorch's {@code F.relu6(x + 3.0) / 6.0}, written out. */
    private static double reference(double x) {
        return Math.min(Math.max(x + 3.0, 0.0), 6.0) / 6.0;
    }

    @Test
    void forwardIsRelu6OfXPlus3Over6InDoubleAndFloat() {
        INDArray x = Nd4j.createFromArray(X);
        INDArray y = new ActivationTorchHardSigmoid().getActivation(x.dup(), true);
        INDArray yf = new ActivationTorchHardSigmoid().getActivation(x.castTo(DataType.FLOAT), false);
        for (int i = 0; i < X.length; i++) {
            assertEquals(reference(X[i]), y.getDouble(i), 0, "x=" + X[i]);
            assertEquals((float) (Math.min(Math.max((float) X[i] + 3f, 0f), 6f) / 6f), yf.getFloat(i), 0, "float x=" + X[i]);
        }
        assertEquals(2.0 / 3.0, y.getDouble(6), 1e-16);
    }

    @Test
    void dl4jsOwnHardSigmoidIsADifferentFunction() {
        INDArray one = Nd4j.createFromArray(1.0);
        double dl4j = Activation.HARDSIGMOID.getActivationFunction().getActivation(one.dup(), false).getDouble(0);
        assertEquals(0.7, dl4j, 1e-6, "DL4J's hard sigmoid is clamp(0.2 x + 0.5) (its 0.2 is a float)");
        assertNotEquals(dl4j, new ActivationTorchHardSigmoid().getActivation(one.dup(), false).getDouble(0), 1e-3);
    }

    @Test
    void backwardIsOneSixthStrictlyInsideTheLinearRangeAndMatchesFiniteDifferences() {
        INDArray x = Nd4j.createFromArray(X);
        INDArray eps = Nd4j.createFromArray(1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
        INDArray d = new ActivationTorchHardSigmoid().backprop(x.dup(), eps).getFirst();
        for (int i = 0; i < X.length; i++) {
            double slope = X[i] + 3 > 0 && X[i] + 3 < 6 ? 1.0 / 6 : 0.0; // PyTorch: 0 at both kinks
            assertEquals(eps.getDouble(i) * slope, d.getDouble(i), 1e-15, "x=" + X[i]);
            if (Math.abs(Math.abs(X[i]) - 3) > 1e-2) {
                double h = 1e-6;
                double fd = (reference(X[i] + h) - reference(X[i] - h)) / (2 * h);
                assertEquals(fd * eps.getDouble(i), d.getDouble(i), 1e-8, "finite difference at x=" + X[i]);
            }
        }
    }

    @Test
    void survivesJsonInAnyLayer() {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().graphBuilder().addInputs("x")
                .addLayer("gate", new ActivationLayer(new ActivationTorchHardSigmoid()), "x")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nOut(2)
                        .activation(new ActivationTorchHardSigmoid()).build(), "gate")
                .setOutputs("out").setInputTypes(InputType.feedForward(3)).build();
        String json = conf.toJson();
        assertTrue(json.contains(ActivationTorchHardSigmoid.class.getName()), json);
        ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(json);
        assertEquals(conf, back);
        assertEquals(new ActivationTorchHardSigmoid(),
                ((ActivationLayer) ((LayerVertex) back.getVertices().get("gate")).getLayerConf().getLayer()).getActivationFn());
        assertEquals(new ActivationTorchHardSigmoid(),
                ((BaseLayer) ((LayerVertex) back.getVertices().get("out")).getLayerConf().getLayer()).getActivationFn());
        assertArrayEquals(new double[]{0.5}, new ActivationTorchHardSigmoid()
                .getActivation(Nd4j.createFromArray(0.0), false).toDoubleVector(), 0);
    }
}
