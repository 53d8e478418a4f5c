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

    private static void assertClose(INDArray expected, INDArray actual, String what) {
        double scale = Math.max(1e-300, expected.amaxNumber().doubleValue());
        double diff = expected.sub(actual).amaxNumber().doubleValue();
        assertTrue(diff <= 1e-12 * scale, what + ": max |diff| " + diff + " > 1e-12 * " + scale);
    }
}
