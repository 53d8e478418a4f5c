package org.repopt.train;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.repopt.gr.BlockScales;
import org.repopt.gr.RepOptimizer;
import org.repopt.model.BlockSpec;
import org.repopt.model.LayerNames;
import org.repopt.model.RepOptVgg;
import org.repopt.model.VggSpec;
import org.repopt.train.GradMultEffectListener.GradMultEffect;
import org.repopt.testing.TinySpecs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Grad Mult effect listener against figures computed here from the scales and the parameters. */
class GradMultEffectListenerTest {

    private final VggSpec spec = TinySpecs.tiny();
    private final List<BlockScales> scales = TinySpecs.randomScales(spec, 5);

    /** Keeps the raw gradient of every conv kernel and the kernels before and after each update. */
    private static final class Recorder extends BaseTrainingListener {
        final Map<Integer, Map<String, INDArray>> raw = new HashMap<>();
        final Map<Integer, Map<String, INDArray>> before = new HashMap<>();
        final Map<Integer, Map<String, INDArray>> after = new HashMap<>();
        private final List<String> layers;

        Recorder(List<String> layers) {
            this.layers = layers;
        }

        @Override
        public void onGradientCalculation(Model model) {
            ComputationGraph net = (ComputationGraph) model;
            Map<String, INDArray> g = new HashMap<>();
            Map<String, INDArray> w = new HashMap<>();
            for (String l : layers) {
                g.put(l, net.gradient().getGradientFor(l + "_W").dup());
                w.put(l, net.getLayer(l).getParam("W").dup());
            }
            raw.put(net.getIterationCount(), g);
            before.put(net.getIterationCount(), w);
        }

        @Override
        public void iterationDone(Model model, int iteration, int epoch) {
            ComputationGraph net = (ComputationGraph) model;
            Map<String, INDArray> w = new HashMap<>();
            for (String l : layers) {
                w.put(l, net.getLayer(l).getParam("W").dup());
            }
            after.put(iteration, w);
        }
    }

    /** The SGD form's multiplier, written out from the paper's formula (independent of the hook's code). */
    private static INDArray gradMult(BlockScales s) {
        INDArray m = Nd4j.zeros(DataType.DOUBLE, s.outChannels(), s.inChannels(), 3, 3);
        for (int o = 0; o < s.outChannels(); o++) {
            for (int i = 0; i < s.inChannels(); i++) {
                for (int p = 0; p < 3; p++) {
                    for (int q = 0; q < 3; q++) {
                        double v = s.scaleConv()[o] * s.scaleConv()[o];
                        if (p == 1 && q == 1) {
                            v += s.scale1x1()[o] * s.scale1x1()[o] + (s.hasIdentity() && o == i ? 1 : 0);
                        }
                        m.putScalar(new int[]{o, i, p, q}, v);
                    }
                }
            }
        }
        return m;
    }

    @Test
    void reportsTheMultipliedGradientAndTheUpdateOfEveryGradMultKernel(@TempDir Path dir) throws IOException {
        ComputationGraph net = RepOptVgg.builder(spec).dataType(DataType.DOUBLE).seed(3).build()
                .init(RepOptimizer.sgd(scales).learningRate(0.05).weightDecay(1e-3));
        List<String> convs = spec.blocks().stream().map(b -> LayerNames.conv(b.name())).toList();
        Recorder recorder = new Recorder(convs);
        List<List<GradMultEffect>> reports = new ArrayList<>();
        Path file = dir.resolve(GradMultEffectListener.FILE);
        net.addListeners(recorder, new GradMultEffectListener(2, reports::add),
                GradMultEffectListener.toJsonLines(file, 2));
        for (int step = 0; step < 5; step++) {
            net.fit(TinySpecs.batch(spec, 6, step, DataType.DOUBLE));
        }
        assertEquals(List.of(0, 2, 4), reports.stream().map(r -> r.get(0).iteration()).toList());
        for (List<GradMultEffect> report : reports) {
            assertEquals(convs, report.stream().map(GradMultEffect::layer).toList(),
                    "one entry per Grad Mult kernel, none for BatchNorm or the linear layer");
            for (GradMultEffect e : report) {
                BlockSpec block = spec.blocks().get(convs.indexOf(e.layer()));
                BlockScales s = scales.stream().filter(b -> b.block().equals(block.name())).findFirst().orElseThrow();
                INDArray g = recorder.raw.get(e.iteration()).get(e.layer());
                INDArray gm = g.mul(gradMult(s));
                INDArray w0 = recorder.before.get(e.iteration()).get(e.layer());
                INDArray w1 = recorder.after.get(e.iteration()).get(e.layer());
                String where = e.layer() + " at iteration " + e.iteration();
                assertEquals("W", e.param());
                assertEquals(g.norm2Number().doubleValue(), e.gradNorm(), 1e-12, where);
                assertEquals(gm.norm2Number().doubleValue(), e.multipliedGradNorm(), 1e-12, where);
                double cosine = g.mul(gm).sumNumber().doubleValue() / (g.norm2Number().doubleValue()
                        * gm.norm2Number().doubleValue());
                assertEquals(cosine, e.cosine(), 1e-12, where);
                assertEquals(w0.norm2Number().doubleValue(), e.paramNorm(), 1e-12, where);
                assertEquals(w0.sub(w1).norm2Number().doubleValue(), e.updateNorm(), 1e-12, where);
                assertEquals(e.updateNorm() / e.paramNorm(), e.updateParamRatio(), 1e-15, where);
                assertTrue(e.gain() > 0 && e.cosine() > 0 && e.cosine() <= 1 + 1e-12, where);
            }
        }
        List<String> lines = Files.readAllLines(file);
        assertEquals(3 * convs.size(), lines.size());
        JsonNode first = new ObjectMapper().readTree(lines.get(0));
        GradMultEffect e = reports.get(0).get(0);
        assertEquals(0, first.get("iteration").asInt());
        assertEquals(e.layer(), first.get("layer").asText());
        assertEquals(e.multipliedGradNorm(), first.get("mult_grad_norm").asDouble(), 0);
        assertEquals(e.gain(), first.get("gain").asDouble(), 0);
        assertEquals(e.updateParamRatio(), first.get("update_param_ratio").asDouble(), 0);
    }

    @Test
    void aResumedRunContinuesTheFileFromItsCheckpoint(@TempDir Path dir) throws IOException {
        Path file = dir.resolve(GradMultEffectListener.FILE);
        // what an interrupted run wrote: iterations 0..6, of which the checkpoint covers 0..3
        StringBuilder old = new StringBuilder();
        for (int it = 0; it <= 6; it += 2) {
            old.append("{\"iteration\":").append(it).append(",\"layer\":\"old\"}\n");
        }
        Files.writeString(file, old);
        ComputationGraph net = RepOptVgg.builder(spec).dataType(DataType.DOUBLE).seed(3).build()
                .init(RepOptimizer.sgd(scales).learningRate(0.05));
        net.getConfiguration().setIterationCount(4);
        net.setListeners(GradMultEffectListener.toJsonLines(file, 2));
        for (int step = 0; step < 2; step++) {
            net.fit(TinySpecs.batch(spec, 4, step, DataType.DOUBLE));
        }
        ObjectMapper mapper = new ObjectMapper();
        List<Integer> iterations = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            iterations.add(mapper.readTree(line).get("iteration").asInt());
        }
        List<Integer> expected = new ArrayList<>(List.of(0, 2));
        spec.blocks().forEach(b -> expected.add(4));
        assertEquals(expected, iterations, "the old lines before the checkpoint, then one per kernel from iteration 4");

        Files.writeString(file, "not json\n");
        ComputationGraph again = RepOptVgg.builder(spec).dataType(DataType.DOUBLE).seed(3).build()
                .init(RepOptimizer.sgd(scales).learningRate(0.05));
        again.setListeners(GradMultEffectListener.toJsonLines(file, 1));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> again.fit(TinySpecs.batch(spec, 4, 0, DataType.DOUBLE)));
        assertTrue(e.getMessage().contains(file + " line 1"), e.getMessage());
    }

    @Test
    void aNetworkWithoutGradMultReportsNothing() {
        ComputationGraph net = RepOptVgg.builder(spec).dataType(DataType.DOUBLE).seed(3).build().init();
        net.setListeners(new GradMultEffectListener(1, r -> {
            throw new AssertionError("reported " + r);
        }));
        net.fit(TinySpecs.batch(spec, 4, 0, DataType.DOUBLE));
        assertThrows(IllegalArgumentException.class, () -> new GradMultEffectListener(0, r -> { }));
    }
}
