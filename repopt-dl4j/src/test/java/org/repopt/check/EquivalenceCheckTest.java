package org.repopt.check;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.junit.jupiter.api.Test;
import org.repopt.gr.BlockScales;
import org.repopt.model.LayerNames;
import org.repopt.model.RepOptVgg;
import org.repopt.model.VggSpec;
import org.repopt.testing.TinySpecs;
import org.repopt.testing.UserNets;

import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The equivalence check on networks of every shape it promises, and its refusals. */
class EquivalenceCheckTest {

    @Test
    void passesOnRepOptVggAndTheAblationsBreakIt() {
        VggSpec spec = TinySpecs.tiny();
        ComputationGraphConfiguration conf = RepOptVgg.builder(spec).build().conf();
        List<BlockScales> scales = TinySpecs.randomScales(spec, 3).stream()
                .map(b -> b.renamed(LayerNames.conv(b.block()))).collect(Collectors.toList());
        EquivalenceReport r = EquivalenceCheck.builder().ablate().build().run(conf, scales);
        assertTrue(r.passed(), r.toText());
        assertEquals(spec.blocks().size(), r.layers().size());
        for (EquivalenceReport.LayerGap l : r.layers()) {
            assertTrue(l.gapWithoutReinit() >= 1e-3, r.toText());
            assertTrue(l.gapWithoutGradMult() >= 1e-3, r.toText());
        }
        assertTrue(r.toText().endsWith("max_relative_gap=" + String.format(java.util.Locale.ROOT, "%.3e",
                r.maxRelativeGap())), r.toText());
    }

    @Test
    void passesOnAUserStyleGraph() {
        EquivalenceReport r = EquivalenceCheck.builder().build().run(UserNets.userStyleGraph(),
                UserNets.randomScales(UserNets.USER_STYLE_SITES, 5));
        assertTrue(r.passed(), r.toText());
        assertEquals("1x5x5", r.input(), "the smallest input every conv sees whole: 3x3 after the pooling");
        assertEquals("3x3 + 1x1 + identity", r.layers().get(1).branches());
    }

    @Test
    void passesOnAMultiLayerNetworkWithBatchNorm() {
        List<BlockScales> scales = UserNets.randomScales(new Object[][]{{"layer0", 1, 4, 1}, {"layer4", 4, 4, 1}}, 9);
        EquivalenceReport r = EquivalenceCheck.builder().ablate().build().run(UserNets.multiLayerNet(), scales);
        assertTrue(r.passed(), r.toText());
        assertEquals("144", r.input(), "flat input, as convolutionalFlat makes it");
        assertTrue(r.layers().get(1).gapWithoutGradMult() >= 1e-3, r.toText());
    }

    @Test
    void passesOnDepthwiseBlocks() {
        Random r = new Random(4);
        List<BlockScales> scales = List.of(
                UserNets.randomScales(new Object[][]{{"stem", 1, 6, 1}}, 2).get(0),
                BlockScales.depthwise("dw1", 6, 1, 3, positive(r, 6), positive(r, 6)),
                BlockScales.depthwise("dw2", 6, 2, 3, positive(r, 6), null));
        EquivalenceReport r1 = EquivalenceCheck.builder().ablate().build().run(UserNets.depthwiseGraph(), scales);
        assertTrue(r1.passed(), r1.toText());
        assertEquals("3x3 + identity", r1.layers().get(1).branches());
        assertEquals("3x3", r1.layers().get(2).branches());
        assertTrue(r1.layers().get(1).gapWithoutGradMult() >= 1e-3, r1.toText());
        assertTrue(r1.layers().get(1).gapWithoutReinit() >= 1e-3, r1.toText());
    }

    private static double[] positive(Random r, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = 0.3 + 1.5 * r.nextDouble();
        }
        return v;
    }

    @Test
    void scalesThatDoNotFitAreRefusedNamingTheLayer() {
        List<BlockScales> scales = UserNets.randomScales(new Object[][]{{"c1", 1, 4, 1}, {"c2", 4, 4, 1},
                {"c3", 4, 8, 1}, {"c4", 8, 8, 1}}, 5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EquivalenceCheck.builder().build().run(UserNets.userStyleGraph(), scales));
        assertTrue(e.getMessage().contains("c3"), e.getMessage());
        List<BlockScales> notAConv = UserNets.randomScales(new Object[][]{{"bn1", 1, 4, 1}}, 5);
        e = assertThrows(IllegalArgumentException.class,
                () -> EquivalenceCheck.builder().build().run(UserNets.userStyleGraph(), notAConv));
        assertTrue(e.getMessage().contains("bn1") && e.getMessage().contains("BatchNormalization"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }
}
