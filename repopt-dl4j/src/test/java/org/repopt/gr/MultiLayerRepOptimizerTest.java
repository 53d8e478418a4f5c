package org.repopt.gr;

import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The one line on a MultiLayerNetwork: the same training as on its chain graph, JSON and ModelSerializer round trips,
 * exact resume and the same refusals.
 */
class MultiLayerRepOptimizerTest {

    private static final double[] S = {0.9, 1.1, -0.3, 0.7};

    /** Scales for {@link GrSitesTest#userMultiLayer()}'s two sites, keyed by DL4J's layer names. */
    static List<BlockScales> scales() {
        return List.of(new BlockScales("layer0", 2, 4, 1, S, new double[]{0.2, -0.4, 0.5, 0.1}, null),
                new BlockScales("second", 4, 4, 1, S, new double[]{0.3, 0.3, -0.2, 0.6}, new double[]{1, 0.5, 0.8, 1.2}));
    }

    private static RepOptimizer.Builder optimizer(String form) {
        return ("sgd".equals(form) ? RepOptimizer.sgd(scales()).learningRate(0.05).weightDecay(1e-3)
                : RepOptimizer.adamw(scales()).learningRate(1e-3).weightDecay(0.05)).mapByBlockName().seed(9);
    }

    private static DataSet batch(int step) {
        Nd4j.getRandom().setSeed(100 + step);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 4, 2, 8, 8);
        INDArray y = Nd4j.zeros(DataType.DOUBLE, 4, 3);
        for (int i = 0; i < 4; i++) {
            y.putScalar(i, (i + step) % 3, 1.0);
        }
        return new DataSet(x, y);
    }

    @ParameterizedTest(name = "{0} form: a MultiLayerNetwork trains exactly as its chain graph")
    @ValueSource(strings = {"sgd", "adamw"})
    void trainsAsItsGraph(String form) {
        MultiLayerConfiguration conf = GrSitesTest.userMultiLayer();
        MultiLayerNetwork mln = optimizer(form).applyTo(conf);
        ComputationGraph graph = optimizer(form).applyTo(MultiLayerAsGraph.toGraph(conf));
        assertEquals(graph.params(), mln.params(), "same start, re-initialized alike");
        BaseLayer conv = (BaseLayer) mln.getLayerWiseConfigurations().getConf(4).getLayer();
        assertEquals("second", conv.getLayerName());
        assertInstanceOf(GradMultHook.class, conv.getRegularization().get(0));
        assertEquals(scales().get(1), ((GradMultHook) conv.getRegularization().get(0)).scales());
        for (int step = 0; step < 3; step++) {
            mln.fit(batch(step));
            graph.fit(batch(step));
        }
        assertClose(graph.params(), mln.params(), "after 3 steps");
        assertEquals(3, mln.getLayerWiseConfigurations().getIterationCount());
    }

    @Test
    void theRuleOfInitializationChangesOnlyTheSites() {
        MultiLayerConfiguration conf = GrSitesTest.userMultiLayer();
        MultiLayerNetwork plain = new MultiLayerNetwork(conf.clone());
        plain.init();
        MultiLayerNetwork net = optimizer("sgd").applyTo(plain);
        assertNotEquals(plain.getLayer("second").getParam("W"), net.getLayer("second").getParam("W"));
        assertNotEquals(plain.getLayer("layer0").getParam("W"), net.getLayer("layer0").getParam("W"));
        assertEquals(plain.getLayer("layer7").getParam("W"), net.getLayer("layer7").getParam("W"));
        MultiLayerNetwork kept = optimizer("sgd").fineTune().applyTo(plain);
        assertEquals(plain.params(), kept.params());
    }

    @ParameterizedTest(name = "{0} form: JSON and ModelSerializer round trips, resumed training is exact (1e-12)")
    @ValueSource(strings = {"sgd", "adamw"})
    void roundTripsAndExactResume(String form, @TempDir Path dir) throws IOException {
        MultiLayerNetwork uninterrupted = optimizer(form).applyTo(GrSitesTest.userMultiLayer());
        MultiLayerNetwork first = optimizer(form).applyTo(GrSitesTest.userMultiLayer());
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(first.getLayerWiseConfigurations().toJson());
        assertEquals(first.getLayerWiseConfigurations(), back);
        for (int step = 0; step < 3; step++) {
            uninterrupted.fit(batch(step));
            first.fit(batch(step));
        }
        File saved = dir.resolve("model.zip").toFile();
        ModelSerializer.writeModel(first, saved, true);
        MultiLayerNetwork resumed = ModelSerializer.restoreMultiLayerNetwork(saved, true);
        assertEquals(first.getLayerWiseConfigurations(), resumed.getLayerWiseConfigurations());
        assertClose(first.getUpdater().getStateViewArray(), resumed.getUpdater().getStateViewArray(), "updater");
        for (int step = 3; step < 6; step++) {
            uninterrupted.fit(batch(step));
            resumed.fit(batch(step));
        }
        assertClose(uninterrupted.params(), resumed.params(), "parameters");
        assertEquals(6, resumed.getLayerWiseConfigurations().getIterationCount());
    }

    @Test
    void theBaselineOnAMultiLayerNetworkHasNoGradMultAndKeepsItsInit() {
        MultiLayerConfiguration conf = GrSitesTest.userMultiLayer();
        MultiLayerNetwork plain = new MultiLayerNetwork(conf.clone());
        plain.init();
        MultiLayerNetwork net = RepOptimizer.baselineSgd().weightDecay(1e-3).applyTo(plain);
        assertEquals(plain.params(), net.params());
        BaseLayer conv = (BaseLayer) net.getLayerWiseConfigurations().getConf(4).getLayer();
        assertEquals(List.of(new org.nd4j.linalg.learning.regularization.L2Regularization(1e-3)),
                conv.getRegularization());
        net.fit(batch(0));
    }

    @Test
    void refusalsAreTheGraphs() {
        MultiLayerNetwork trained = optimizer("sgd").applyTo(GrSitesTest.userMultiLayer());
        trained.fit(batch(0));
        IllegalStateException notFresh = assertThrows(IllegalStateException.class,
                () -> optimizer("sgd").applyTo(trained));
        assertTrue(notFresh.getMessage().contains("iteration count 1"), notFresh.getMessage());
        optimizer("sgd").fineTune().applyTo(trained);

        MultiLayerConfiguration clipped = GrSitesTest.userMultiLayer();
        ((BaseLayer) clipped.getConf(7).getLayer()).setGradientNormalization(GradientNormalization.ClipL2PerLayer);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> optimizer("sgd").configure(clipped));
        assertTrue(e.getMessage().contains("'layer7'") && e.getMessage().contains("gradient normalization"),
                e.getMessage());

        IllegalArgumentException other = assertThrows(IllegalArgumentException.class, () -> RepOptimizer
                .sgd(List.of(scales().get(0).renamed("conv0"))).mapByBlockName().applyTo(GrSitesTest.userMultiLayer()));
        assertTrue(other.getMessage().contains("[conv0]") && other.getMessage().contains("[layer0, second]"),
                other.getMessage());
    }

    @Test
    void depthwiseBlocksOnAMultiLayerNetworkAreReinitializedAndTrained() {
        MultiLayerConfiguration conf = new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder().seed(4)
                .dataType(DataType.DOUBLE).list()
                .layer(new org.deeplearning4j.nn.conf.layers.ConvolutionLayer.Builder(1, 1).nOut(6).hasBias(false)
                        .activation(org.nd4j.linalg.activations.Activation.IDENTITY).build())
                .layer(new org.deeplearning4j.nn.conf.layers.BatchNormalization.Builder().build())
                .layer(new org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D.Builder(3, 3).padding(1, 1)
                        .convolutionMode(org.deeplearning4j.nn.conf.ConvolutionMode.Truncate).hasBias(false)
                        .activation(org.nd4j.linalg.activations.Activation.IDENTITY).name("dw").build())
                .layer(new org.deeplearning4j.nn.conf.layers.BatchNormalization.Builder().build())
                .layer(new org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer.Builder(
                        org.deeplearning4j.nn.conf.layers.PoolingType.AVG).build())
                .layer(new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder().nOut(3)
                        .activation(org.nd4j.linalg.activations.Activation.SOFTMAX).build())
                .setInputType(org.deeplearning4j.nn.conf.inputs.InputType.convolutional(8, 8, 2)).build();
        assertEquals(List.of("dw"), GrSites.find(conf).siteNames());
        BlockScales dw = BlockScales.depthwise("dw", 6, 1, 3, new double[]{0.9, 1.1, -0.3, 0.7, 1.3, 0.2},
                new double[]{1, 0.5, 0.8, 1.2, 0.1, 0.9});
        MultiLayerNetwork plain = new MultiLayerNetwork(conf.clone());
        plain.init();
        MultiLayerNetwork net = RepOptimizer.sgd(List.of(dw)).learningRate(0.05).applyTo(plain);
        INDArray w = plain.getLayer("dw").getParam("W");
        assertArrayEquals(new long[]{3, 3, 6, 1}, w.shape());
        assertClose(Reinit.equivalentKernel(dw, w, null), net.getLayer("dw").getParam("W"), "Rule of Initialization");
        INDArray before = net.getLayer("dw").getParam("W").dup();
        DataSet b = new DataSet(Nd4j.rand(DataType.DOUBLE, 4, 2, 8, 8), Nd4j.eye(3).getRows(0, 1, 2, 0));
        net.fit(b);
        assertNotEquals(before, net.getLayer("dw").getParam("W"));
    }

    /**
     * A kernel's gradient lies inside the network's gradient buffer, at an offset (ND4J view pitfalls): depthwise in
     * DL4J's [k, k, C, 1] layout, and a dense block with 1x1 and identity branches.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"depthwise", "dense"})
    void gradMultOnAGradientInsideALargerBuffer(String kind) {
        double[] s = {0.9, 1.1, -0.3, 0.7, 1.3, 0.2};
        double[] sid = {1, 0.5, 0.8, 1.2, 0.1, 0.9};
        BlockScales dw = "depthwise".equals(kind) ? BlockScales.depthwise("dw", 6, 1, 3, s, sid)
                : new BlockScales("dense", 6, 6, 1, s, new double[]{0.3, -0.2, 0.5, 0.4, 0.9, 1.1}, sid);
        INDArray mult = GradMult.create(dw, GradMult.Form.SGD, DataType.DOUBLE);
        int n = (int) mult.length();
        INDArray m = ("depthwise".equals(kind) ? mult.permute(2, 3, 0, 1) : mult).dup('c').reshape(n);
        for (int offset : new int[]{0, 36, 40}) {
            INDArray whole = Nd4j.rand(DataType.DOUBLE, 1, 500).dup('f');
            INDArray grad = whole.get(org.nd4j.linalg.indexing.NDArrayIndex.point(0),
                    org.nd4j.linalg.indexing.NDArrayIndex.interval(offset, offset + n));
            INDArray expected = grad.dup('c').reshape(n).mul(m);
            INDArray rest = whole.dup();
            new GradMultHook(dw, GradMult.Form.SGD, org.nd4j.linalg.learning.regularization.Regularization.ApplyStep
                    .BEFORE_UPDATER).apply(null, grad, 0.1, 0, 0);
            assertClose(expected, grad.dup('c').reshape(n), "offset " + offset);
            INDArray outside = whole.dup();
            outside.get(org.nd4j.linalg.indexing.NDArrayIndex.point(0),
                    org.nd4j.linalg.indexing.NDArrayIndex.interval(offset, offset + n)).assign(0);
            rest.get(org.nd4j.linalg.indexing.NDArrayIndex.point(0),
                    org.nd4j.linalg.indexing.NDArrayIndex.interval(offset, offset + n)).assign(0);
            assertEquals(rest, outside, "nothing outside the kernel's gradient changes");
        }
    }

    private static void assertClose(INDArray expected, INDArray actual, String what) {
        double scale = Math.max(1e-300, expected.amaxNumber().doubleValue());
        double diff = expected.sub(actual).amaxNumber().doubleValue();
        assertTrue(diff <= 1e-12 * scale, what + ": max |diff| " + diff + " > 1e-12 * " + scale);
    }
}
