package org.repopt.gr;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.repopt.model.BlockSpec;
import org.repopt.model.LayerNames;
import org.repopt.model.RepOptVgg;
import org.repopt.model.VggSpec;
import org.repopt.testing.TinySpecs;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Rule of Initialization on DL4J networks, and its refusal to touch networks that are not fresh. */
class ReinitTest {

    private final VggSpec spec = TinySpecs.tiny();
    private final List<BlockScales> scales = TinySpecs.randomScales(spec, 4);
    private final RepOptVgg model = RepOptVgg.builder(spec).dataType(DataType.DOUBLE).seed(2).build();

    @Test
    void reinitializedKernelIsTheScaledInitPlusCentreTerms() {
        ComputationGraph fresh = model.init();
        ComputationGraph net = RepOptimizer.sgd(scales).seed(5).applyTo(fresh);
        for (int i = 0; i < spec.blocks().size(); i++) {
            BlockSpec b = spec.blocks().get(i);
            double[] w3 = fresh.getLayer(LayerNames.conv(b.name())).getParam("W").dup('c').data().asDouble();
            double[] w = net.getLayer(LayerNames.conv(b.name())).getParam("W").dup('c').data().asDouble();
            double[] s3 = scales.get(i).scaleConv();
            for (int o = 0; o < b.out(); o++) {
                for (int in = 0; in < b.in(); in++) {
                    for (int t = 0; t < 9; t++) {
                        int k = (o * b.in() + in) * 9 + t;
                        if (t != 4) {
                            assertEquals(s3[o] * w3[k], w[k], 1e-15, b.name() + " off-centre tap");
                        }
                    }
                }
            }
        }
        assertTrue(net.params().sub(fresh.params()).amaxNumber().doubleValue() > 0, "kernels changed");
    }

    @Test
    void reinitIsReproducibleForASeed() {
        ComputationGraph a = RepOptimizer.sgd(scales).seed(5).applyTo(model.init());
        ComputationGraph b = RepOptimizer.sgd(scales).seed(5).applyTo(model.init());
        assertEquals(a.params(), b.params());
    }

    @Test
    void refusesATrainedNetwork() {
        ComputationGraph net = RepOptimizer.baseline(GradMult.Form.SGD).applyTo(model.conf());
        net.fit(TinySpecs.batch(spec, 4, 1, DataType.DOUBLE));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> RepOptimizer.sgd(scales).applyTo(net));
        assertTrue(e.getMessage().contains("iteration count 1") && e.getMessage().contains("fineTune()"),
                e.getMessage());
    }

    @Test
    void refusesBatchNormThatLeftItsInitialState() {
        ComputationGraph net = model.init();
        net.getLayer(LayerNames.bn("stage1.0")).getParam("gamma").putScalar(0, 0.7);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> RepOptimizer.sgd(scales).applyTo(net));
        assertTrue(e.getMessage().contains("'stage1.0.bn'") && e.getMessage().contains("gamma"), e.getMessage());
    }

    @Test
    void refusesANetworkRestoredFromAFile(@TempDir Path dir) throws IOException {
        ComputationGraph trained = RepOptimizer.sgd(scales).applyTo(model.conf());
        trained.fit(TinySpecs.batch(spec, 4, 1, DataType.DOUBLE));
        File f = dir.resolve("trained.zip").toFile();
        ModelSerializer.writeModel(trained, f, true);
        ComputationGraph restored = ModelSerializer.restoreComputationGraph(f, true);
        assertThrows(IllegalStateException.class, () -> RepOptimizer.sgd(scales).applyTo(restored));
    }

    @Test
    void fineTuneKeepsTheWeights() {
        ComputationGraph trained = RepOptimizer.baseline(GradMult.Form.SGD).applyTo(model.conf());
        trained.fit(TinySpecs.batch(spec, 4, 1, DataType.DOUBLE));
        ComputationGraph tuned = RepOptimizer.sgd(scales).fineTune().applyTo(trained);
        assertEquals(trained.params(), tuned.params());
        assertTrue(tuned.getConfiguration().toJson().contains(GradMultHook.class.getName()));
    }
}
