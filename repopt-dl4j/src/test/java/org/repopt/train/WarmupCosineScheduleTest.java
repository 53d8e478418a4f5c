package org.repopt.train;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.linalg.schedule.ScheduleType;
import org.repopt.gr.TorchSgd;

import java.io.File;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WarmupCosineScheduleTest {

    @Test
    void warmupRisesLinearlyToBase() {
        WarmupCosineSchedule s = new WarmupCosineSchedule(0.1, 0.0, 4, 21);
        assertEquals(0.025, s.valueAt(0, 0), 1e-15);
        assertEquals(0.05, s.valueAt(1, 0), 1e-15);
        assertEquals(0.1, s.valueAt(3, 0), 1e-15);
        assertEquals(ScheduleType.ITERATION, s.scheduleType());
        assertEquals(s.valueAt(2, 0), s.valueAt(2, 7), "the epoch does not matter");
    }

    @Test
    void cosineOverTheWholeRunEndsAtMin() {
        WarmupCosineSchedule s = new WarmupCosineSchedule(0.1, 0.0, 4, 21);
        // T = N - 1 = 20; the cosine runs over the run's t (no warm-up prefix)
        assertEquals(0.1 * 0.5 * (1 + Math.cos(Math.PI * 4 / 20)), s.valueAt(4, 0), 1e-15);
        assertEquals(0.05, s.valueAt(10, 0), 1e-15, "midpoint");
        assertEquals(0.0, s.valueAt(20, 0), 0.0, "last iteration");
        assertEquals(0.0, s.valueAt(25, 0), 0.0, "after the run");
        WarmupCosineSchedule withMin = new WarmupCosineSchedule(0.1, 0.01, 0, 21);
        assertEquals(0.1, withMin.valueAt(0, 0), 1e-15, "no warm-up starts at base");
        assertEquals(0.055, withMin.valueAt(10, 0), 1e-15);
        assertEquals(0.01, withMin.valueAt(20, 0), 1e-15);
        for (int t = 4; t < 20; t++) {
            assertTrue(s.valueAt(t + 1, 0) < s.valueAt(t, 0), "decreasing at " + t);
        }
    }

    @Test
    void forRunCountsIterations() {
        WarmupCosineSchedule s = WarmupCosineSchedule.forRun(0.1, 0, 5, 120, 5005);
        assertEquals(5 * 5005, s.warmupIterations());
        assertEquals(120 * 5005, s.totalIterations());
        assertEquals(1.0 / 1, new WarmupCosineSchedule(1.0, 0, 0, 1).valueAt(0, 0), 0.0, "a one-step run");
    }

    @Test
    void badValuesAreNamed() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new WarmupCosineSchedule(0.1, 0, 21, 21))
                .getMessage().contains("warmupIterations must be in [0, totalIterations=21), got 21"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new WarmupCosineSchedule(0.1, 0.2, 0, 21))
                .getMessage().contains("minValue must be in [0, baseValue=0.1], got 0.2"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new WarmupCosineSchedule(Double.NaN, 0, 0, 2))
                .getMessage().contains("baseValue must be finite and > 0, got NaN"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new WarmupCosineSchedule(0.1, 0, 0, 0))
                .getMessage().contains("totalIterations must be >= 1, got 0"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> WarmupCosineSchedule.forRun(0.1, 0, 1, 100_000, 100_000)).getMessage()
                .contains("exceeds DL4J's int iteration count"));
    }

    @Test
    void jsonRoundTripAlone() throws Exception {
        WarmupCosineSchedule s = new WarmupCosineSchedule(0.1, 0.001, 7, 99);
        String json = NeuralNetConfiguration.mapper().writerFor(ISchedule.class).writeValueAsString(s);
        ISchedule back = NeuralNetConfiguration.mapper().readValue(json, ISchedule.class);
        assertEquals(s, back);
        assertTrue(json.contains("org.repopt.train.WarmupCosineSchedule"), json);
    }

    @Test
    void installedScheduleRoundTripsThroughConfigurationJsonAndModelSerializer(@TempDir Path dir) throws Exception {
        ComputationGraph net = Nets.repopt(1, 3, 6, DataType.DOUBLE, 3);
        WarmupCosineSchedule s = new WarmupCosineSchedule(0.2, 0.0, 3, 30);
        Trainer.installSchedule(net, s);
        net.getConfiguration().setIterationCount(17);
        assertScheduled(net.getConfiguration(), s, 17);

        ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(net.getConfiguration().toJson());
        assertScheduled(back, s, 17);
        assertEquals(net.getConfiguration(), back);

        File zip = dir.resolve("net.zip").toFile();
        ModelSerializer.writeModel(net, zip, true);
        ComputationGraph restored = ModelSerializer.restoreComputationGraph(zip, true);
        assertScheduled(restored.getConfiguration(), s, 17);
        assertEquals(17, restored.getIterationCount());
        assertEquals(s.valueAt(17, 0), restored.getLearningRate("conv0"), 0.0);
    }

    @Test
    void installingAScheduleReleasesTheUpdaterStateItReplaces() {
        ComputationGraph net = Nets.repopt(1, 3, 6, DataType.DOUBLE, 3);
        INDArray before = net.getUpdater().getStateViewArray();
        assertTrue(before != null && before.length() > 0, "the test needs a network with updater state");
        Trainer.installSchedule(net, new WarmupCosineSchedule(0.2, 0.0, 3, 30));
        INDArray after = net.getUpdater(false).getStateViewArray();
        assertTrue(before.wasClosed(), "the replaced state is freed at once, not at the next GC");
        assertFalse(after.wasClosed());
        assertEquals(before.length(), after.length());
        assertEquals(0.0, after.amaxNumber().doubleValue(), 0.0, "a new schedule starts from zero state");
    }

    private static void assertScheduled(ComputationGraphConfiguration conf, WarmupCosineSchedule s, int iteration) {
        int scheduled = 0;
        for (var v : conf.getVertices().values()) {
            if (v instanceof LayerVertex && ((LayerVertex) v).getLayerConf().getLayer() instanceof BaseLayer) {
                IUpdater u = ((BaseLayer) ((LayerVertex) v).getLayerConf().getLayer()).getIUpdater();
                if (u.hasLearningRate()) {
                    TorchSgd sgd = assertInstanceOf(TorchSgd.class, u);
                    assertEquals(s, sgd.learningRateSchedule());
                    assertEquals(s.valueAt(iteration, 0), sgd.getLearningRate(iteration, 0), 0.0);
                    scheduled++;
                }
            }
        }
        assertEquals(3, scheduled, "conv, bn and output layers");
    }
}
