package org.repopt.nn;

import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.io.File;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChannelMultiplyVertexTest {

    private static INDArray random(Random r, long... shape) {
        int n = 1;
        for (long s : shape) {
            n *= (int) s;
        }
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.nextGaussian();
        }
        return Nd4j.create(v, shape, DataType.DOUBLE);
    }

    /** Forward and backward of the running vertex against loops over {@code [n][c][h][w]}. */
    private static void checkAgainstLoops(CNN2DFormat format, long[] xShape, long[] gateShape) {
        Random r = new Random(11);
        INDArray x = random(r, xShape);
        INDArray gate = random(r, gateShape);
        INDArray eps = random(r, xShape);
        GraphVertex v = new ChannelMultiplyVertex(format).instantiate(null, "gate", 0, null, false, DataType.DOUBLE);
        LayerWorkspaceMgr ws = LayerWorkspaceMgr.noWorkspaces();
        v.setInputs(x, gate);
        INDArray y = v.doForward(true, ws);
        v.setEpsilon(eps);
        INDArray[] grads = v.doBackward(false, ws).getSecond();
        boolean nhwc = format == CNN2DFormat.NHWC;
        long n = xShape[0];
        long c = nhwc ? xShape[3] : xShape[1];
        long h = nhwc ? xShape[1] : xShape[2];
        long w = nhwc ? xShape[2] : xShape[3];
        INDArray g2 = gate.reshape('c', n, c);
        assertArrayEquals(gateShape, grads[1].shape(), "the gate's gradient has the gate's shape");
        INDArray dGate2 = grads[1].reshape('c', n, c);
        for (long i = 0; i < n; i++) {
            for (long ch = 0; ch < c; ch++) {
                double sum = 0;
                for (long a = 0; a < h; a++) {
                    for (long b = 0; b < w; b++) {
                        long[] idx = nhwc ? new long[]{i, a, b, ch} : new long[]{i, ch, a, b};
                        double g = g2.getDouble(i, ch);
                        assertEquals(x.getDouble(idx) * g, y.getDouble(idx), 1e-15);
                        assertEquals(eps.getDouble(idx) * g, grads[0].getDouble(idx), 1e-15);
                        sum += eps.getDouble(idx) * x.getDouble(idx);
                    }
                }
                assertEquals(sum, dGate2.getDouble(i, ch), 1e-12, "dL/dgate[" + i + "," + ch + "]");
            }
        }
    }

    @Test
    void nchwWithA1x1GateEqualsLoops() {
        checkAgainstLoops(CNN2DFormat.NCHW, new long[]{2, 3, 4, 5}, new long[]{2, 3, 1, 1});
    }

    @Test
    void nchwWithAFeedForwardGateEqualsLoops() {
        checkAgainstLoops(CNN2DFormat.NCHW, new long[]{3, 4, 2, 3}, new long[]{3, 4});
    }

    @Test
    void nhwcWithA1x1GateEqualsLoops() {
        checkAgainstLoops(CNN2DFormat.NHWC, new long[]{2, 4, 5, 3}, new long[]{2, 1, 1, 3});
    }

    private static ComputationGraphConfiguration squeezeExcite() {
        return new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE).seed(5).updater(new NoOp())
                .graphBuilder().addInputs("x")
                .addLayer("pre", new ConvolutionLayer.Builder(1, 1).nOut(4).activation(Activation.TANH).build(), "x")
                .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).collapseDimensions(false).build(), "pre")
                .addLayer("expand", new ConvolutionLayer.Builder(1, 1).nOut(4).convolutionMode(ConvolutionMode.Truncate)
                        .activation(Activation.SIGMOID).build(), "pool")
                .addVertex("gate", new ChannelMultiplyVertex(), "pre", "expand")
                .addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "gate")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "gap")
                .setOutputs("out").setInputTypes(InputType.convolutional(3, 4, 2)).build();
    }

    @Test
    void gradientsThroughBothInputsPassDl4jsGradientCheck() {
        DataType before = Nd4j.defaultFloatingPointType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE); // GradientCheckUtil insists on it
        try {
            ComputationGraph net = new ComputationGraph(squeezeExcite());
            net.init();
            Random r = new Random(3);
            INDArray labels = Nd4j.zeros(DataType.DOUBLE, 2, 3);
            labels.putScalar(0, 1, 1.0);
            labels.putScalar(1, 2, 1.0);
            boolean ok = GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig().net(net)
                    .inputs(new INDArray[]{random(r, 2, 2, 3, 4)}).labels(new INDArray[]{labels})
                    .epsilon(1e-6).maxRelError(1e-5).minAbsoluteError(1e-10));
            assertTrue(ok, "DL4J's numerical gradient check");
        } finally {
            Nd4j.setDefaultDataTypes(before, before);
        }
    }

    @Test
    void jsonAndModelFileRoundTrip(@TempDir Path dir) throws Exception {
        ComputationGraphConfiguration conf = squeezeExcite();
        String json = conf.toJson();
        assertTrue(json.contains(ChannelMultiplyVertex.class.getName()), json);
        ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(json);
        assertEquals(conf, back);
        assertEquals(json, back.toJson());
        assertEquals(new ChannelMultiplyVertex(CNN2DFormat.NHWC), ComputationGraphConfiguration.fromJson(
                new NeuralNetConfiguration.Builder().graphBuilder().addInputs("x", "g")
                        .addVertex("m", new ChannelMultiplyVertex(CNN2DFormat.NHWC), "x", "g").setOutputs("m")
                        .build().toJson()).getVertices().get("m"));
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        File f = dir.resolve("se.zip").toFile();
        ModelSerializer.writeModel(net, f, false);
        ComputationGraph restored = ModelSerializer.restoreComputationGraph(f, false);
        INDArray x = random(new Random(9), 2, 2, 3, 4);
        assertEquals(net.outputSingle(x), restored.outputSingle(x));
    }

    @Test
    void mismatchedGatesAreRefusedWhenTheGraphIsBuilt() {
        Exception channels = assertThrows(Exception.class, () -> new NeuralNetConfiguration.Builder().graphBuilder()
                .addInputs("x", "g").addVertex("m", new ChannelMultiplyVertex(), "x", "g").setOutputs("m")
                .setInputTypes(InputType.convolutional(4, 4, 3), InputType.feedForward(5)).build());
        assertTrue(channels.getMessage().contains("the gate has 5 channels, the feature map 3"), channels.getMessage());
        Exception spatial = assertThrows(Exception.class, () -> new NeuralNetConfiguration.Builder().graphBuilder()
                .addInputs("x", "g").addVertex("m", new ChannelMultiplyVertex(), "x", "g").setOutputs("m")
                .setInputTypes(InputType.convolutional(4, 4, 3), InputType.convolutional(2, 2, 3)).build());
        assertTrue(spatial.getMessage().contains("must be 1x1"), spatial.getMessage());
        GraphVertex v = new ChannelMultiplyVertex().instantiate(null, "se", 0, null, false, DataType.DOUBLE);
        v.setInputs(Nd4j.zeros(DataType.DOUBLE, 2, 3, 4, 4), Nd4j.zeros(DataType.DOUBLE, 2, 4));
        IllegalStateException run = assertThrows(IllegalStateException.class,
                () -> v.doForward(false, LayerWorkspaceMgr.noWorkspaces()));
        assertTrue(run.getMessage().contains("vertex 'se'") && run.getMessage().contains("[2, 4]"), run.getMessage());
    }
}
