package org.repopt.gr;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.repopt.model.LayerNames;
import org.repopt.model.RepOptVgg;
import org.repopt.model.VggSpec;
import org.repopt.testing.TinySpecs;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Grad Mult is part of the network configuration: it survives JSON and ModelSerializer, and training resumed
 * from a saved model continues exactly as if it had never stopped.
 */
class SerializationAndResumeTest {

    private final VggSpec spec = TinySpecs.tiny();
    private final List<BlockScales> scales = TinySpecs.randomScales(spec, 3);

    private RepOptimizer.Builder optimizer(String form) {
        return ("sgd".equals(form) ? RepOptimizer.sgd(scales).learningRate(0.05).weightDecay(1e-3)
                : RepOptimizer.adamw(scales).learningRate(1e-3).weightDecay(0.05)).seed(9);
    }

    private ComputationGraph network(String form) {
        return RepOptVgg.builder(spec).dataType(DataType.DOUBLE).seed(1).build().init(optimizer(form));
    }

    @ParameterizedTest(name = "{0} form: configuration JSON round trip keeps every hook")
    @ValueSource(strings = {"sgd", "adamw"})
    void jsonRoundTrip(String form) {
        ComputationGraphConfiguration conf = network(form).getConfiguration();
        ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(conf.toJson());
        assertEquals(conf, back);
        BaseLayer conv = (BaseLayer) ((LayerVertex) back.getVertices().get(LayerNames.conv("stage1.1")))
                .getLayerConf().getLayer();
        List<Regularization> regs = conv.getRegularization();
        assertInstanceOf(GradMultHook.class, regs.get(0));
        assertEquals(scales.get(2), ((GradMultHook) regs.get(0)).scales());
        Class<?> updater = "sgd".equals(form) ? TorchSgd.class : TorchAdam.class;
        assertEquals(updater, conv.getIUpdater().getClass());
    }

    @ParameterizedTest(name = "{0} form: resumed training equals uninterrupted training (1e-12)")
    @ValueSource(strings = {"sgd", "adamw"})
    void resumeIsExact(String form, @TempDir Path dir) throws IOException {
        ComputationGraph uninterrupted = network(form);
        ComputationGraph first = network(form);
        for (int step = 0; step < 4; step++) {
            uninterrupted.fit(TinySpecs.batch(spec, 5, step, DataType.DOUBLE));
            first.fit(TinySpecs.batch(spec, 5, step, DataType.DOUBLE));
        }
        assertClose(uninterrupted.params(), first.params(), "before saving");
        File saved = dir.resolve("model.zip").toFile();
        ModelSerializer.writeModel(first, saved, true);
        ComputationGraph resumed = ModelSerializer.restoreComputationGraph(saved, true);
        assertEquals(first.getConfiguration(), resumed.getConfiguration());
        assertClose(first.params(), resumed.params(), "restored");
        assertClose(first.getUpdater().getStateViewArray(), resumed.getUpdater().getStateViewArray(), "restored updater");
        for (int step = 4; step < 9; step++) {
            uninterrupted.fit(TinySpecs.batch(spec, 5, step, DataType.DOUBLE));
            resumed.fit(TinySpecs.batch(spec, 5, step, DataType.DOUBLE));
        }
        assertClose(uninterrupted.params(), resumed.params(), "parameters");
        assertClose(uninterrupted.getUpdater().getStateViewArray(), resumed.getUpdater().getStateViewArray(),
                "updater state");
        assertEquals(9, resumed.getConfiguration().getIterationCount());
    }

    private static void assertClose(INDArray expected, INDArray actual, String what) {
        double scale = Math.max(1e-300, expected.amaxNumber().doubleValue());
        double diff = expected.sub(actual).amaxNumber().doubleValue();
        assertTrue(diff <= 1e-12 * scale, what + ": max |diff| " + diff + " > 1e-12 * " + scale);
    }

    @ParameterizedTest(name = "{0} form: DL4J's own setLearningRate(ISchedule) keeps the configuration loadable")
    @ValueSource(strings = {"sgd", "adamw"})
    void dl4jScheduleSetterKeepsTheConfigurationValid(String form) {
        ComputationGraph net = network(form);
        net.setLearningRate(new org.nd4j.linalg.schedule.ExponentialSchedule(
                org.nd4j.linalg.schedule.ScheduleType.ITERATION, 0.1, 0.99));
        ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(net.getConfiguration().toJson());
        assertEquals(net.getConfiguration(), back);
        assertEquals(0.1 * 0.99 * 0.99, back.getVertices().values().stream()
                .filter(v -> v instanceof LayerVertex).map(v -> ((LayerVertex) v).getLayerConf().getLayer())
                .filter(l -> l instanceof BaseLayer).map(l -> ((BaseLayer) l).getIUpdater()).findFirst()
                .orElseThrow().getLearningRate(2, 0), 1e-15);
    }

    @Test
    void torchUpdatersRoundTripAsUpdaterConfigs() {
        ComputationGraphConfiguration conf = network("sgd").getConfiguration();
        String json = conf.toJson();
        assertTrue(json.contains(TorchSgd.class.getName()) && json.contains(GradMultHook.class.getName()), json);
    }
}
