package org.repopt.model;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The paper's model sizes (docs/METHOD.md#model-family) from our configurations. */
class ModelStatsTest {

    @ParameterizedTest(name = "RepOpt-VGG-{0}: {1}M params, {2}G multiply-accumulates (the paper's FLOPs)")
    @CsvSource({"B1, 51.8, 11.9", "B2, 80.3, 18.4", "L1, 76.0, 21.0", "L2, 118.1, 32.8"})
    void repOptVggMatchesThePaper(String variant, double paramsM, double macsG) {
        ModelStats s = ModelStats.of(RepOptVgg.builder(VggSpec.of(Variant.parse(variant))).build());
        assertWithin(paramsM * 1e6, s.trainableParams(), 0.005, variant + " params");
        assertWithin(macsG * 1e9, s.multiplyAccumulates(), 0.03, variant + " multiply-accumulates");
    }

    @ParameterizedTest(name = "RepVGG-B1 training-time params 57.4M")
    @CsvSource({"B1, 57.4"})
    void repVggB1TrainingTimeParams(String variant, double paramsM) {
        ModelStats s = ModelStats.of(RepVgg.builder(VggSpec.of(Variant.parse(variant))).build());
        assertWithin(paramsM * 1e6, s.trainableParams(), 0.01, "RepVGG-" + variant + " params");
    }

    private static void assertWithin(double expected, double actual, double rel, String what) {
        assertTrue(Math.abs(actual - expected) <= rel * expected,
                what + ": expected " + expected + " within " + rel * 100 + "%, got " + actual);
    }

    @ParameterizedTest(name = "deploy of {0} has the parameters of RepOpt-VGG plus conv biases minus BN")
    @CsvSource({"B1"})
    void fusedDeployIsPlain(String variant) {
        VggSpec spec = VggSpec.of(Variant.parse(variant));
        long repopt = ModelStats.of(RepOptVgg.builder(spec).build()).trainableParams();
        long fused = ModelStats.of(FusedVgg.builder(spec).build()).trainableParams();
        long bnParams = 2L * spec.blocks().stream().mapToInt(BlockSpec::out).sum();
        long biases = spec.blocks().stream().mapToInt(BlockSpec::out).sum();
        assertEquals(repopt - bnParams + biases, fused);
    }
}
