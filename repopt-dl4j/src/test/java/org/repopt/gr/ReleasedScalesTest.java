package org.repopt.gr;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.repopt.nn.ParamValues;

import java.io.IOException;
import java.io.InputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The released Hyper-Search scales (B1, B2, L1, L2) give, for every block, the SGD Grad Mult figures the reference
 * code derives from them ({@code check_grad_mult_sgd}): the sum within 1e-6 relative, the entries exact to float
 * precision.
 */
class ReleasedScalesTest {

    @ParameterizedTest(name = "released:{0}")
    @ValueSource(strings = {"B1", "B2", "L1", "L2"})
    void gradMultMatchesTheReferenceFigures(String variant) throws IOException {
        ScalesFile scales = ScalesFile.released(variant);
        JsonNode raw;
        try (InputStream in = ScalesFile.class.getResourceAsStream("released/RepOpt-VGG-" + variant + "-scales.json")) {
            raw = new ObjectMapper().readTree(in);
        }
        assertEquals("RepOpt-VGG-" + variant, scales.model());
        assertEquals(raw.get("blocks").size(), scales.blocks().size());
        for (int b = 0; b < scales.blocks().size(); b++) {
            BlockScales s = scales.blocks().get(b);
            JsonNode check = raw.get("blocks").get(b).get("check_grad_mult_sgd");
            double[] m = ParamValues.of(GradMult.create(s, GradMult.Form.SGD, DataType.DOUBLE));
            double sum = 0;
            for (double v : m) {
                sum += v;
            }
            double expectedSum = check.get("sum").asDouble();
            assertTrue(Math.abs(sum - expectedSum) <= 1e-6 * expectedSum,
                    s.block() + ": sum " + sum + " vs " + expectedSum);
            int in = s.inChannels();
            int last = s.outChannels() - 1;
            assertFloatExact(check.get("at_0_0_1_1").asDouble(), m[4], s.block() + " [0,0,1,1]");
            assertFloatExact(check.get("at_0_0_0_0").asDouble(), m[0], s.block() + " [0,0,0,0]");
            assertFloatExact(check.get("at_last_last_1_1").asDouble(), m[(last * in + in - 1) * 9 + 4],
                    s.block() + " [last,last,1,1]");
        }
    }

    /**
     * The reference computed {@code s3^2 + s1^2} in float32 arithmetic, we compute in double: the two agree to the
     * float's own resolution, one unit in the last place.
     */
    private static void assertFloatExact(double expected, double actual, String what) {
        assertTrue(Math.abs(expected - actual) <= Math.ulp((float) expected),
                what + ": " + actual + " vs " + expected + " differ by more than one float ulp");
    }
}
