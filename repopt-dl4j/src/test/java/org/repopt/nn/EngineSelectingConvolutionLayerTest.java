package org.repopt.nn;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.repopt.backend.OneDnnHelpers;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The engine choice changes the speed of the backward pass, never its result. */
class EngineSelectingConvolutionLayerTest {

    private static ComputationGraphConfiguration conf(int genericMaxPixels) {
        return new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.FLOAT).graphBuilder().addInputs("x")
                .addLayer("conv", new EngineSelectingConvolutionLayer.Builder(3, 3).genericBackwardMaxInputPixels(
                                genericMaxPixels).stride(1, 1).padding(1, 1).convolutionMode(ConvolutionMode.Truncate)
                        .nOut(16).hasBias(false).activation(Activation.IDENTITY).build(), "x")
                .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "conv")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(4)
                        .activation(Activation.SOFTMAX).build(), "pool")
                .setOutputs("out").setInputTypes(InputType.convolutional(2, 2, 32)).build();
    }

    private static INDArray gradient(ComputationGraph net, DataSet ds) {
        net.setInputs(ds.getFeatures());
        net.setLabels(ds.getLabels());
        net.computeGradientAndScore();
        return net.gradient().gradient().dup();
    }

    @Test
    void genericAndOneDnnBackwardAgree() {
        Assumptions.assumeTrue(OneDnnHelpers.isCpuBackend(), "the engine choice exists on the CPU backend");
        OneDnnHelpers.enable();
        Random r = new Random(1);
        float[] x = new float[8 * 32 * 2 * 2];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        DataSet ds = new DataSet(Nd4j.create(x, new long[]{8, 32, 2, 2}),
                Nd4j.eye(4).castTo(DataType.FLOAT).repeat(0, 2));
        ComputationGraph generic = new ComputationGraph(conf(4));
        generic.init();
        ComputationGraph onednn = new ComputationGraph(conf(0));
        onednn.init(generic.params().dup(), true);
        assertInstanceOf(EngineSelectingConvHelper.class, generic.getLayer("conv").getHelper());
        INDArray a = gradient(generic, ds);
        INDArray b = gradient(onednn, ds);
        double diff = a.sub(b).amaxNumber().doubleValue();
        double scale = b.amaxNumber().doubleValue();
        assertTrue(diff <= 1e-5 * scale, "gradients differ by " + diff + " (scale " + scale + ")");
        assertTrue(Nd4j.getEnvironment().helpersAllowed(), "the helper switch is restored after the backward pass");
    }

    @Test
    void theThresholdIsPartOfTheConfiguration() {
        ComputationGraphConfiguration c = conf(7);
        ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(c.toJson());
        assertEquals(c, back);
        assertEquals(7, ((EngineSelectingConvolutionLayer) ((org.deeplearning4j.nn.conf.graph.LayerVertex) back
                .getVertices().get("conv")).getLayerConf().getLayer()).getGenericBackwardMaxInputPixels());
    }
}
