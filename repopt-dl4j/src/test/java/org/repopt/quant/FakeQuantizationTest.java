package org.repopt.quant;

import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.ViewIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.repopt.backend.OneDnnHelpers;
import org.repopt.nn.FakeQuantLayer;
import org.repopt.quant.VggNets.BlockSpec;

import java.io.File;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FakeQuantizationTest {

    private static final double W = 1.0 / 128;        // weight step: every weight is k/128, max|k| = 127
    private static final double X = 1.0 / 128;        // input step
    private static final double A0 = X * W;           // ReLU 0 output step
    private static final double A1 = A0 * W;          // ReLU 1 output step

    /**
     * A plain VGG whose float computation stays on the INT8 grids that calibration will choose: 1x1 images (so a
     * 3x3 kernel only uses its centre tap; a corner tap of 127 pins each channel's weight scale to 1/128 without
     * touching the output), weights k/128, inputs k/128 with max|k| = 127, and biases chosen so that every ReLU
     * output is an integer multiple of its step with maximum exactly 255 steps. Channel 2 of block 1 is always 0
     * and carries the classifier's pinning weights.
     */
    private static ComputationGraph exactNet(int[][] x) {
        var g = new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE).graphBuilder().addInputs("in")
                .addLayer("a", conv(3, 1), "in").addLayer("a_relu", new ActivationLayer(Activation.RELU), "a")
                .addLayer("b", conv(3, 2), "a_relu").addLayer("b_relu", new ActivationLayer(Activation.RELU), "b")
                .addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "b_relu")
                .addLayer("cls", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(2)
                        .activation(Activation.SOFTMAX).build(), "gap")
                .setOutputs("cls").setInputTypes(InputType.convolutional(1, 1, 2)).build();
        OneDnnHelpers.enable();
        ComputationGraph net = new ComputationGraph(g);
        net.init();
        int[][] k0 = {{2, -1}, {-3, 1}, {1, 1}};
        int[][] a0 = new int[x.length][3];
        setConv(net, "a", k0, x, a0, 255, W * X);
        int[][] k1 = {{1, 2, -1}, {-1, 1, 2}, {0, 0, 0}};
        int[][] a1 = new int[x.length][3];
        setConv(net, "b", k1, a0, a1, 255, A1);
        net.getLayer("b").getParam("b").putScalar(2, -1.0);
        INDArray wc = Nd4j.create(new double[][]{{3, -2}, {-1, 4}, {127, -127}}).muli(W);
        net.getLayer("cls").getParam("W").assign(wc);
        net.getLayer("cls").getParam("b").assign(Nd4j.create(new double[]{0.1, -0.2}));
        return net;
    }

    private static ConvolutionLayer conv(int out, int stride) {
        return new ConvolutionLayer.Builder(3, 3).stride(stride, stride).padding(1, 1)
                .convolutionMode(ConvolutionMode.Truncate).nOut(out).activation(Activation.IDENTITY).build();
    }

    /** Sets centre taps k/128, a corner pin of 127/128 per output channel, and biases that put max output at 255. */
    private static void setConv(ComputationGraph net, String name, int[][] k, int[][] in, int[][] out, int top,
                                double outStep) {
        INDArray w = net.getLayer(name).getParam("W");
        w.assign(0);
        INDArray b = net.getLayer(name).getParam("b");
        for (int o = 0; o < k.length; o++) {
            w.putScalar(new long[]{o, 0, 0, 0}, 127 * W);
            for (int c = 0; c < k[o].length; c++) {
                w.putScalar(new long[]{o, c, 1, 1}, k[o][c] * W);
            }
            int max = Integer.MIN_VALUE;
            for (int[] v : in) {
                int s = 0;
                for (int c = 0; c < k[o].length; c++) {
                    s += k[o][c] * v[c];
                }
                max = Math.max(max, s);
            }
            b.putScalar(o, (top - max) * outStep);
            for (int n = 0; n < in.length; n++) {
                int s = top - max;
                for (int c = 0; c < k[o].length; c++) {
                    s += k[o][c] * in[n][c];
                }
                out[n][o] = Math.max(0, s);
            }
        }
    }

    private static int[][] exactInputs(int n, long seed) {
        Random r = new Random(seed);
        int[][] x = new int[n][2];
        for (int[] v : x) {
            v[0] = r.nextInt(255) - 127;
            v[1] = r.nextInt(255) - 127;
        }
        x[0][1] = -127;
        return x;
    }

    private static DataSet dataSet(int[][] x, long seed) {
        INDArray f = Nd4j.create(DataType.DOUBLE, x.length, 2, 1, 1);
        for (int n = 0; n < x.length; n++) {
            f.putScalar(new long[]{n, 0, 0, 0}, x[n][0] * X);
            f.putScalar(new long[]{n, 1, 0, 0}, x[n][1] * X);
        }
        INDArray y = Nd4j.zeros(DataType.DOUBLE, x.length, 2);
        Random r = new Random(seed);
        for (int n = 0; n < x.length; n++) {
            y.putScalar(n, r.nextInt(2), 1);
        }
        return new DataSet(f, y);
    }

    @Test
    void aModelOnTheGridQuantizesExactly() {
        int[][] x = exactInputs(24, 31);
        ComputationGraph net = exactNet(x);
        DataSet data = dataSet(x, 32);
        List<QuantPoint> points = Calibrator.calibrate(net, new ViewIterator(data, 8), 3, new RangeEstimator.MinMax(),
                ActivationGrid.UNSIGNED_AFTER_RELU);
        assertEquals(List.of(new QuantPoint("in", true, 127 * X), new QuantPoint("a_relu", false, 255 * A0),
                new QuantPoint("b_relu", false, 255 * A1), new QuantPoint("gap", false, 255 * A1)), points);
        assertEquals(X, points.get(0).scale(), 0);
        assertEquals(A1, points.get(3).scale(), 0);
        INDArray expected = net.outputSingle(data.getFeatures());
        Evaluation floatEval = net.evaluate(new ViewIterator(data, 8));
        for (Granularity g : Granularity.values()) {
            ComputationGraph q = FakeQuantization.apply(net, points, g);
            assertEquals(0, expected.sub(q.outputSingle(data.getFeatures())).amaxNumber().doubleValue(), g.name());
            Evaluation int8Eval = q.evaluate(new ViewIterator(data, 8));
            assertEquals(floatEval.accuracy(), int8Eval.accuracy(), 0);
            assertTrue(floatEval.accuracy() > 0 && floatEval.accuracy() < 1, "accuracy " + floatEval.accuracy());
            // Not vacuous: input a third of a step off the grid is rounded back onto it by the quantized graph only.
            INDArray off = data.getFeatures().add(X / 3);
            assertEquals(0, expected.sub(q.outputSingle(off)).amaxNumber().doubleValue(), g.name());
            assertTrue(expected.sub(net.outputSingle(off)).amaxNumber().doubleValue() > 0, g.name());
        }
    }

    @Test
    void quantizationVisiblyChangesARandomModelAndPerChannelHelps(@TempDir Path dir) throws Exception {
        ComputationGraph g = VggNets.build(3, 8, 8, 5, DataType.DOUBLE, 41, true,
                new BlockSpec(8, 2, true, false), new BlockSpec(8, 1, true, false), new BlockSpec(12, 2, true, false));
        VggNets.randomizeBatchNorms(g, 42);
        ComputationGraph deploy = BnFolding.fold(g);
        DataSet calib = VggNets.randomData(32, 3, 8, 8, 5, DataType.DOUBLE, 43);
        DataSet test = VggNets.randomData(16, 3, 8, 8, 5, DataType.DOUBLE, 44);
        List<QuantPoint> minMax = Calibrator.calibrate(deploy, new ViewIterator(calib, 8), 4,
                new RangeEstimator.MinMax(), ActivationGrid.UNSIGNED_AFTER_RELU);
        List<QuantPoint> pct = Calibrator.calibrate(deploy, new ViewIterator(calib, 8), 4,
                new RangeEstimator.Percentile(99), ActivationGrid.UNSIGNED_AFTER_RELU);
        for (int i = 0; i < minMax.size(); i++) {
            assertTrue(pct.get(i).range() < minMax.get(i).range(), "percentile 99 clips " + pct.get(i));
        }
        // Measured on the calibration data, where min-max ranges clip nothing: only rounding errors remain.
        INDArray ref = deploy.feedForward(calib.getFeatures(), false).get("pool");
        ComputationGraph perTensor = FakeQuantization.apply(deploy, minMax, Granularity.PER_TENSOR);
        ComputationGraph perChannel = FakeQuantization.apply(deploy, minMax, Granularity.PER_CHANNEL);
        double errT = rms(ref.sub(perTensor.feedForward(calib.getFeatures(), false).get("pool")));
        double errC = rms(ref.sub(perChannel.feedForward(calib.getFeatures(), false).get("pool")));
        double size = rms(ref);
        assertTrue(errT > 1e-3 * size && errT < 0.2 * size, "per-tensor pooled-feature rms error " + errT + " of "
                + size);
        assertTrue(errC > 1e-4 * size && errC < errT, "per-channel rms error " + errC + " vs per-tensor " + errT);
        // A signed grid on ReLU outputs has the same ranges but twice the step, so a larger error.
        List<QuantPoint> signed = Calibrator.calibrate(deploy, new ViewIterator(calib, 8), 4,
                new RangeEstimator.MinMax(), ActivationGrid.SIGNED);
        for (int i = 0; i < signed.size(); i++) {
            assertTrue(signed.get(i).signed());
            assertEquals(minMax.get(i).range(), signed.get(i).range(), 0);
        }
        double errS = rms(ref.sub(FakeQuantization.apply(deploy, signed, Granularity.PER_CHANNEL)
                .feedForward(calib.getFeatures(), false).get("pool")));
        assertTrue(errS > errC, "signed-grid rms error " + errS + " vs unsigned " + errC);
        // The quantized weights differ from the float ones; the float graph is untouched.
        INDArray w = deploy.getLayer("c1").getParam("W");
        INDArray wq = perTensor.getLayer("c1").getParam("W");
        assertTrue(w.sub(wq).amaxNumber().doubleValue() > 0);
        assertEquals(0, w.sub(BnFolding.fold(g).getLayer("c1").getParam("W")).amaxNumber().doubleValue());
        assertTrue(perTensor.getLayer("r1_int8").conf().getLayer() instanceof FakeQuantLayer);
        // The quantized model saves and loads like any DL4J model.
        File f = dir.resolve("int8.zip").toFile();
        ModelSerializer.writeModel(perTensor, f, false);
        ComputationGraph back = ModelSerializer.restoreComputationGraph(f, false);
        assertEquals(0, perTensor.outputSingle(test.getFeatures()).sub(back.outputSingle(test.getFeatures()))
                .amaxNumber().doubleValue());
    }

    private static double rms(INDArray a) {
        return Math.sqrt(a.mul(a).meanNumber().doubleValue());
    }

    @Test
    void aFlatInputKeepsItsPreprocessorOnTheFirstConv() {
        ComputationGraph g = VggNets.build(InputType.convolutionalFlat(6, 6, 1), 3, DataType.DOUBLE, 81, false,
                new BlockSpec(4, 2, true, false), new BlockSpec(4, 1, true, false));
        VggNets.randomizeBatchNorms(g, 82);
        DataSet d = VggNets.randomData(8, 1, 6, 6, 3, DataType.DOUBLE, 83);
        DataSet flat = new DataSet(d.getFeatures().reshape(8, 36), d.getLabels());
        ComputationGraph deploy = BnFolding.fold(g);
        List<QuantPoint> points = Calibrator.calibrate(deploy, new ViewIterator(flat, 4), 2,
                new RangeEstimator.MinMax(), ActivationGrid.UNSIGNED_AFTER_RELU);
        ComputationGraph q = FakeQuantization.apply(deploy, points, Granularity.PER_CHANNEL);
        INDArray ref = g.outputSingle(flat.getFeatures());
        INDArray out = q.outputSingle(flat.getFeatures());
        assertEquals(List.of(8L, 3L), List.of(out.shape()[0], out.shape()[1]));
        double diff = ref.sub(out).amaxNumber().doubleValue();
        assertTrue(diff > 0 && diff < 0.05, "softmax difference " + diff);
    }

    @Test
    void badUseIsRefused() {
        ComputationGraph g = VggNets.build(1, 4, 4, 2, DataType.DOUBLE, 51, false, new BlockSpec(2, 1, true, false));
        List<QuantPoint> points = List.of(new QuantPoint("x", true, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FakeQuantization.apply(g, points, Granularity.PER_TENSOR));
        assertTrue(e.getMessage().contains("batch norm layers remain after convs [c0]; fold them first"),
                e.getMessage());
        ComputationGraph f = BnFolding.fold(g);
        e = assertThrows(IllegalArgumentException.class, () -> FakeQuantization.apply(f,
                List.of(new QuantPoint("c0", false, 1)), Granularity.PER_TENSOR));
        assertTrue(e.getMessage().contains("point after 'c0': expected the input, a ReLU or the pooling layer"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> FakeQuantization.apply(f,
                List.of(new QuantPoint("r0", false, 1), new QuantPoint("r0", false, 2)), Granularity.PER_TENSOR));
        assertTrue(e.getMessage().contains("'r0' is given twice"), e.getMessage());
        DataSet d = VggNets.randomData(4, 1, 4, 4, 2, DataType.DOUBLE, 52);
        e = assertThrows(IllegalArgumentException.class,
                () -> Calibrator.calibrate(f, new ViewIterator(d, 2), 3, new RangeEstimator.MinMax(),
                        ActivationGrid.UNSIGNED_AFTER_RELU));
        assertTrue(e.getMessage().contains("calibration iterator ended after 2 batches, 3 requested"), e.getMessage());
        DataSet zeros = new DataSet(Nd4j.zeros(DataType.DOUBLE, 2, 1, 4, 4), d.getLabels().get(
                NDArrayIndex.interval(0, 2)));
        e = assertThrows(IllegalArgumentException.class,
                () -> Calibrator.calibrate(f, new ViewIterator(zeros, 2), 1, new RangeEstimator.MinMax(),
                        ActivationGrid.UNSIGNED_AFTER_RELU));
        assertTrue(e.getMessage().contains("point after 'x' saw only zeros in 1 calibration batches"), e.getMessage());
    }
}
