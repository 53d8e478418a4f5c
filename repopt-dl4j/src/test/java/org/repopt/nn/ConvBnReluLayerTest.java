package org.repopt.nn;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.repopt.backend.OneDnn;
import org.repopt.backend.OneDnnHelpers;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The fused conv-BN-ReLU layer computes what DL4J's three layers compute: outputs, every parameter gradient, the
 * input gradient, running statistics and a training step, in float on oneDNN (1e-4 relative) and in double on the
 * DL4J path (exactly the three layers' arithmetic).
 */
class ConvBnReluLayerTest {

    private static final double FLOAT_TOLERANCE = 1e-4;

    /** {@code x -> a(conv-bn-relu) -> b(conv-bn-relu) -> gap -> softmax}: block b reads block a's NHWC output. */
    static ComputationGraphConfiguration twoBlocks(int c0, int c1, int c2, int strideA, int strideB, int h, int w,
                                                   DataType type) {
        return twoBlocks(c0, c1, c2, strideA, strideB, h, w, type, false);
    }

    /** As above, with {@code pre} (a plain 3x3 conv with bias) before block a when {@code preConv}. */
    static ComputationGraphConfiguration twoBlocks(int c0, int c1, int c2, int strideA, int strideB, int h, int w,
                                                   DataType type, boolean preConv) {
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder().seed(5).dataType(type)
                .updater(new Sgd(0.1)).weightInit(WeightInit.RELU).graphBuilder().addInputs("x");
        String prev = "x";
        if (preConv) {
            g.addLayer("pre", new EngineSelectingConvolutionLayer.Builder(3, 3).padding(1, 1)
                    .convolutionMode(ConvolutionMode.Truncate).nOut(c0).activation(Activation.IDENTITY).build(), "x");
            prev = "pre";
        }
        int[][] blocks = {{c1, strideA}, {c2, strideB}};
        for (int i = 0; i < 2; i++) {
            String n = i == 0 ? "a" : "b";
            g.addLayer(n, new EngineSelectingConvolutionLayer.Builder(3, 3).stride(blocks[i][1], blocks[i][1])
                    .padding(1, 1).convolutionMode(ConvolutionMode.Truncate).nOut(blocks[i][0]).hasBias(false)
                    .activation(Activation.IDENTITY).build(), prev);
            g.addLayer(n + ".bn", new BatchNormalization.Builder().eps(1e-5).decay(0.9).build(), n);
            g.addLayer(n + ".relu", new ActivationLayer(Activation.RELU), n + ".bn");
            prev = n + ".relu";
        }
        g.addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), prev);
        g.addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                .activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER).build(), "pool");
        return g.setOutputs("out").setInputTypes(InputType.convolutional(h, w, c0)).build();
    }

    static DataSet batch(int n, int c, int h, int w, DataType type, long seed) {
        Random r = new Random(seed);
        double[] x = new double[n * c * h * w];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextGaussian() * 2 + 0.5;
        }
        INDArray labels = Nd4j.zeros(type, n, 3);
        for (int i = 0; i < n; i++) {
            labels.putScalar(i, r.nextInt(3), 1.0);
        }
        return new DataSet(Nd4j.create(x, new long[]{n, c, h, w}).castTo(type), labels);
    }

    /** The plain network and its fused copy with the same parameters. */
    private static ComputationGraph[] pair(ComputationGraphConfiguration conf) {
        OneDnnHelpers.enable();
        ComputationGraph plain = new ComputationGraph(conf);
        plain.init();
        ComputationGraph fused = ConvBnReluFusion.fuse(plain);
        assertNotSame(plain, fused);
        assertEquals(List.of("a", "b"), ConvBnReluFusion.fusedLayers(fused.getConfiguration()));
        return new ComputationGraph[]{plain, fused};
    }

    private static void assertClose(INDArray expected, INDArray actual, double tol, String what) {
        assertCloseOrCloserToExact(expected, actual, null, tol, what);
    }

    private static double worst(INDArray expected, INDArray actual) {
        INDArray e = expected.castTo(DataType.DOUBLE).reshape(expected.length());
        INDArray a = actual.castTo(DataType.DOUBLE).dup('c').reshape(actual.length());
        return e.sub(a).amaxNumber().doubleValue();
    }

    /**
     * {@code actual} is within {@code tol} (relative to the largest expected value) of {@code expected}, or, where a
     * double-precision {@code exact} value is given, at least as close to it as {@code expected} is: over large
     * reductions (a batch-norm gradient sums 64 x 14 x 14 values) DL4J's own float path is 3e-4 off the exact value,
     * and the fused layer must then be no further off than that.
     */
    private static void assertCloseOrCloserToExact(INDArray expected, INDArray actual, INDArray exact, double tol,
                                                   String what) {
        assertEquals(expected.length(), actual.length(), what + ": length");
        double scale = Math.max(expected.castTo(DataType.DOUBLE).amaxNumber().doubleValue(), 1e-3);
        double diff = worst(expected, actual);
        if (diff <= tol * scale) {
            return;
        }
        if (exact == null) {
            fail(what + ": max |diff| " + diff + " > " + tol + " * " + scale);
        }
        double mine = worst(exact, actual);
        double theirs = worst(exact, expected);
        if (!(mine <= Math.max(tol * scale, theirs))) {
            fail(what + ": max |diff| " + diff + " > " + tol + " * " + scale + ", and " + mine
                    + " from the double-precision value, where DL4J's float path is " + theirs + " from it");
        }
    }

    /** Parameter {@code key} of the plain network's layer that holds what the fused layer {@code layer} holds. */
    private static INDArray plainParam(ComputationGraph plain, String layer, String key) {
        return plain.getLayer("W".equals(key) ? layer : layer + ".bn").getParam(key);
    }

    private static Gradient gradient(ComputationGraph net, DataSet ds) {
        net.setInputs(ds.getFeatures());
        net.setLabels(ds.getLabels());
        net.computeGradientAndScore();
        return net.gradient();
    }

    private static Map<String, INDArray> gradients(ComputationGraph net, DataSet ds) {
        Map<String, INDArray> out = new java.util.HashMap<>();
        gradient(net, ds).gradientForVariable().forEach((k, v) -> out.put(k, v.dup()));
        return out;
    }

    /**
     * Outputs, activations, score and gradients of the plain and the fused network agree; {@code exact} (the plain
     * network in double, or {@code null}) arbitrates where float reductions differ by more than {@code tol}.
     */
    private static void assertSameComputation(ComputationGraph plain, ComputationGraph fused, ComputationGraph exact,
                                              DataSet ds, double tol) {
        assertClose(plain.outputSingle(false, ds.getFeatures()), fused.outputSingle(false, ds.getFeatures()), tol,
                "inference output");
        Map<String, INDArray> pa = plain.feedForward(ds.getFeatures(), true);
        Map<String, INDArray> fa = fused.feedForward(ds.getFeatures(), true);
        assertClose(pa.get("a.relu"), fa.get("a"), tol, "training activations of block a");
        assertClose(pa.get("b.relu"), fa.get("b"), tol, "training activations of block b");
        Map<String, INDArray> gp = gradients(plain, ds);
        double scorePlain = plain.score();
        Map<String, INDArray> ge = exact == null ? Map.of()
                : gradients(exact, new DataSet(ds.getFeatures().castTo(DataType.DOUBLE),
                ds.getLabels().castTo(DataType.DOUBLE)));
        Map<String, INDArray> gf = gradients(fused, ds);
        assertEquals(scorePlain, fused.score(), tol * Math.abs(scorePlain), "score");
        for (String layer : List.of("a", "b")) {
            for (String key : fused.getLayer(layer).paramTable().keySet()) {
                String plainKey = ("W".equals(key) ? layer : layer + ".bn") + "_" + key;
                assertCloseOrCloserToExact(gp.get(plainKey), gf.get(layer + "_" + key), ge.get(plainKey), tol,
                        "gradient of " + layer + "." + key);
            }
        }
        for (String key : List.of("out_W", "pre_W", "pre_b")) {
            if (gp.containsKey(key)) {
                assertCloseOrCloserToExact(gp.get(key), gf.get(key), ge.get(key), tol, "gradient of " + key);
            }
        }
    }

    /** The plain network in double with the float network's parameters: the exact value float results approximate. */
    private static ComputationGraph exact(ComputationGraphConfiguration doubleConf, ComputationGraph plain) {
        ComputationGraph d = new ComputationGraph(doubleConf);
        d.init(plain.params().castTo(DataType.DOUBLE), true);
        return d;
    }

    @ParameterizedTest(name = "{0}->{1}->{2}, strides {3},{4}, {5}x{6}, batch {7}")
    @CsvSource({
            "3, 8, 8, 1, 1, 9, 9, 1",        // identity-capable second block, batch 1
            "3, 8, 8, 2, 1, 9, 9, 7",        // stride-2 stem (odd size), identity block
            "4, 16, 32, 1, 2, 8, 8, 7",      // stride-2 second block
            "1, 16, 16, 2, 1, 28, 28, 64",   // the small net's stem and first block, batch 64
            "16, 32, 32, 2, 2, 6, 7, 64",    // non-square, both stride 2
    })
    void floatOnOneDnnEqualsTheThreeLayers(int c0, int c1, int c2, int sa, int sb, int h, int w, int n) {
        Assumptions.assumeTrue(OneDnn.available(), () -> "oneDNN not present: " + OneDnn.unavailableReason());
        ComputationGraph[] nets = pair(twoBlocks(c0, c1, c2, sa, sb, h, w, DataType.FLOAT));
        assertSameComputation(nets[0], nets[1], exact(twoBlocks(c0, c1, c2, sa, sb, h, w, DataType.DOUBLE), nets[0]),
                batch(n, c0, h, w, DataType.FLOAT, n), FLOAT_TOLERANCE);
        assertEquals("oneDNN", ((ConvBnRelu) nets[1].getLayer("a")).engine());
        assertEquals("oneDNN", ((ConvBnRelu) nets[1].getLayer("b")).engine());
    }

    @Test
    void trainingStepsMatchAcrossBatchSizes() {
        Assumptions.assumeTrue(OneDnn.available(), () -> "oneDNN not present: " + OneDnn.unavailableReason());
        ComputationGraph[] nets = pair(twoBlocks(3, 8, 8, 2, 1, 9, 9, DataType.FLOAT));
        // New batch sizes rebuild the primitives; returning to one reuses them.
        for (int n : new int[]{7, 64, 1, 7}) {
            DataSet ds = batch(n, 3, 9, 9, DataType.FLOAT, 100 + n);
            nets[0].fit(ds);
            nets[1].fit(ds);
            for (String layer : List.of("a", "b")) {
                for (Map.Entry<String, INDArray> p : nets[1].getLayer(layer).paramTable().entrySet()) {
                    assertClose(plainParam(nets[0], layer, p.getKey()), p.getValue(), 1e-3,
                            "after a step at batch " + n + ": " + layer + "." + p.getKey());
                }
            }
        }
        DataSet ds = batch(5, 3, 9, 9, DataType.FLOAT, 9);
        assertClose(nets[0].outputSingle(false, ds.getFeatures()), nets[1].outputSingle(false, ds.getFeatures()),
                1e-3, "inference with the trained running statistics");
    }

    @Test
    void inputGradientFeedsTheLayerBeforeExactly() {
        Assumptions.assumeTrue(OneDnn.available(), () -> "oneDNN not present: " + OneDnn.unavailableReason());
        // pre (a DL4J conv) learns from block a's input gradient, written as an NHWC view.
        ComputationGraph[] nets = pair(twoBlocks(4, 8, 8, 1, 2, 6, 6, DataType.FLOAT, true));
        assertTrue(((ConvBnReluLayer) nets[1].getLayer("a").conf().getLayer()).isInputGradient());
        assertSameComputation(nets[0], nets[1], exact(twoBlocks(4, 8, 8, 1, 2, 6, 6, DataType.DOUBLE, true), nets[0]),
                batch(7, 4, 6, 6, DataType.FLOAT, 3), FLOAT_TOLERANCE);
        // A block fed by the network input computes no input gradient: nobody reads it.
        ComputationGraphConfiguration stem = ConvBnReluFusion.fuse(twoBlocks(4, 8, 8, 1, 2, 6, 6, DataType.FLOAT));
        ConvBnReluLayer a = (ConvBnReluLayer) ((org.deeplearning4j.nn.conf.graph.LayerVertex) stem.getVertices()
                .get("a")).getLayerConf().getLayer();
        assertTrue(!a.isInputGradient());
    }

    @Test
    void doubleRunsTheThreeLayersExactly() {
        ComputationGraph[] nets = pair(twoBlocks(3, 8, 8, 2, 1, 7, 7, DataType.DOUBLE));
        DataSet ds = batch(7, 3, 7, 7, DataType.DOUBLE, 1);
        assertSameComputation(nets[0], nets[1], null, ds, 1e-12);
        String engine = ((ConvBnRelu) nets[1].getLayer("a")).engine();
        assertTrue(engine.startsWith("DL4J ("), engine);
        nets[0].fit(ds);
        nets[1].fit(ds);
        assertClose(nets[0].params(), nets[1].params(), 1e-12, "parameters after a step");
    }

    @Test
    void fusingKeepsInitializationAndSplittingRestoresTheGraph() {
        ComputationGraphConfiguration conf = twoBlocks(3, 8, 8, 2, 1, 7, 7, DataType.FLOAT);
        ComputationGraphConfiguration fused = ConvBnReluFusion.fuse(conf);
        assertEquals(Map.of("a", List.of("x"), "b", List.of("a"), "pool", List.of("b"), "out", List.of("pool")),
                fused.getVertexInputs());
        ComputationGraphConfiguration back = ConvBnReluFusion.unfuse(fused);
        assertEquals(List.copyOf(conf.getVertices().keySet()), List.copyOf(back.getVertices().keySet()));
        assertEquals(conf.getVertexInputs(), back.getVertexInputs());
        assertEquals(conf.getNetworkOutputs(), back.getNetworkOutputs());
        for (String v : conf.getVertices().keySet()) {
            var a = ((org.deeplearning4j.nn.conf.graph.LayerVertex) conf.getVertices().get(v)).getLayerConf().getLayer();
            var b = ((org.deeplearning4j.nn.conf.graph.LayerVertex) back.getVertices().get(v)).getLayerConf().getLayer();
            assertEquals(a.getClass(), b.getClass(), v);
            assertEquals(a.getLayerName(), b.getLayerName(), v);
        }
        assertSame(conf, ConvBnReluFusion.unfuse(conf));
        // The same seed draws the same kernels in both forms, and the split network computes what the original does.
        ComputationGraph p = new ComputationGraph(conf);
        p.init();
        ComputationGraph f = new ComputationGraph(fused);
        f.init();
        assertEquals(p.params(), f.params());
        ComputationGraph q = new ComputationGraph(ComputationGraphConfiguration.fromJson(back.toJson()));
        q.init(p.params().dup(), false);
        DataSet ds = batch(7, 3, 7, 7, DataType.FLOAT, 4);
        assertEquals(p.outputSingle(false, ds.getFeatures()), q.outputSingle(false, ds.getFeatures()));
        p.fit(ds);
        q.fit(ds);
        assertEquals(p.params(), q.params());
    }

    @Test
    void jsonAndModelSerializerRoundTrip() throws IOException {
        ComputationGraphConfiguration fused = ConvBnReluFusion.fuse(twoBlocks(3, 8, 8, 2, 1, 7, 7, DataType.FLOAT));
        assertEquals(fused, ComputationGraphConfiguration.fromJson(fused.toJson()));
        ComputationGraph net = new ComputationGraph(fused);
        net.init();
        DataSet ds = batch(7, 3, 7, 7, DataType.FLOAT, 4);
        net.fit(ds);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ModelSerializer.writeModel(net, bytes, true);
        ComputationGraph restored = ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(bytes.toByteArray()),
                true);
        assertEquals(net.params(), restored.params());
        assertEquals(net.getUpdater().getStateViewArray(), restored.getUpdater().getStateViewArray());
        assertEquals(net.outputSingle(false, ds.getFeatures()), restored.outputSingle(false, ds.getFeatures()));
        net.fit(ds);
        restored.fit(ds);
        assertEquals(net.params(), restored.params());
    }

    @Test
    void networkConversionsCarryParametersAndUpdaterState() {
        ComputationGraph plain = new ComputationGraph(twoBlocks(3, 8, 8, 2, 1, 7, 7, DataType.FLOAT));
        plain.init();
        DataSet ds = batch(7, 3, 7, 7, DataType.FLOAT, 4);
        plain.fit(ds);
        ComputationGraph fused = ConvBnReluFusion.fuse(plain);
        assertEquals(plain.params(), fused.params());
        assertEquals(plain.getUpdater().getStateViewArray(), fused.getUpdater().getStateViewArray());
        assertEquals(plain.getConfiguration().getIterationCount(), fused.getConfiguration().getIterationCount());
        ComputationGraph back = ConvBnReluFusion.unfuse(fused);
        assertEquals(plain.params(), back.params());
        for (Layer l : plain.getLayers()) {
            String name = l.conf().getLayer().getLayerName();
            assertEquals(l.paramTable(), back.getLayer(name).paramTable(), name);
        }
    }

    @Test
    void triplesThatDoNotFitStaySeparate() {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT)
                .graphBuilder().addInputs("x")
                .addLayer("withBias", new EngineSelectingConvolutionLayer.Builder(3, 3).padding(1, 1).nOut(4)
                        .activation(Activation.IDENTITY).build(), "x")
                .addLayer("bn1", new BatchNormalization.Builder().build(), "withBias")
                .addLayer("relu1", new ActivationLayer(Activation.RELU), "bn1")
                .addLayer("conv", new EngineSelectingConvolutionLayer.Builder(3, 3).padding(1, 1).nOut(4)
                        .hasBias(false).activation(Activation.IDENTITY).build(), "relu1")
                .addLayer("bn2", new BatchNormalization.Builder().build(), "conv")
                .addLayer("tanh", new ActivationLayer(Activation.TANH), "bn2")
                .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "tanh")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "pool")
                .setOutputs("out").setInputTypes(InputType.convolutional(5, 5, 2)).build();
        Map<String, String> why = ConvBnReluFusion.candidates(conf);
        assertEquals("the convolution has a bias", why.get("withBias"));
        assertTrue(why.get("conv").contains("does not feed exactly one ReLU"), why.get("conv"));
        assertSame(conf, ConvBnReluFusion.fuse(conf));
    }
}
