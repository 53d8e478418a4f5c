package org.repopt.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.repopt.gr.BlockScales;
import org.repopt.testing.GhostNets;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The architecture table against the reference model (figures printed by the reference code, width 0.5). */
class GhostNetSpecTest {

    /** Reference {@code repoptghostnet_0_5x(mode='hs')}: module, primary in, channels, initial cheap scale. */
    private static final String MODULES_0_5X = """
            blocks.0.0.ghost1 8 4 1
            blocks.0.0.ghost2 4 8 0.81649661064147949
            blocks.1.0.ghost1 8 12 1
            blocks.1.0.ghost2 12 12 0.81649661064147949
            blocks.2.0.ghost1 12 20 0.70710676908493042
            blocks.2.0.ghost2 20 12 0.63245552778244019
            blocks.3.0.ghost1 12 20 1
            blocks.3.0.ghost2 20 20 0.81649661064147949
            blocks.4.0.ghost1 20 32 0.70710676908493042
            blocks.4.0.ghost2 32 20 0.63245552778244019
            blocks.5.0.ghost1 20 60 1
            blocks.5.0.ghost2 60 40 0.81649661064147949
            blocks.6.0.ghost1 40 52 0.70710676908493042
            blocks.6.0.ghost2 52 40 0.63245552778244019
            blocks.6.1.ghost1 40 60 0.57735025882720947
            blocks.6.1.ghost2 60 40 0.53452247381210327
            blocks.6.2.ghost1 40 60 0.5
            blocks.6.2.ghost2 60 40 0.47140452265739441
            blocks.6.3.ghost1 40 120 1
            blocks.6.3.ghost2 120 56 0.81649661064147949
            blocks.6.4.ghost1 56 168 0.70710676908493042
            blocks.6.4.ghost2 168 56 0.63245552778244019
            blocks.7.0.ghost1 56 168 1
            blocks.7.0.ghost2 168 80 0.81649661064147949
            blocks.8.0.ghost1 80 240 0.70710676908493042
            blocks.8.0.ghost2 240 80 0.63245552778244019
            blocks.8.1.ghost1 80 240 0.57735025882720947
            blocks.8.1.ghost2 240 80 0.53452247381210327
            blocks.8.2.ghost1 80 240 0.5
            blocks.8.2.ghost2 240 80 0.47140452265739441
            blocks.8.3.ghost1 80 240 0.44721359014511108
            blocks.8.3.ghost2 240 80 0.42640143632888794
            """;

    /** Reference bottlenecks: name, in, mid, out, stride, SE reduced channels, kernel. */
    private static final String BOTTLENECKS_0_5X = """
            blocks.0.0 8 4 8 1 0 3
            blocks.1.0 8 12 12 2 0 3
            blocks.2.0 12 20 12 1 0 3
            blocks.3.0 12 20 20 2 8 5
            blocks.4.0 20 32 20 1 8 5
            blocks.5.0 20 60 40 2 0 3
            blocks.6.0 40 52 40 1 0 3
            blocks.6.1 40 60 40 1 0 3
            blocks.6.2 40 60 40 1 0 3
            blocks.6.3 40 120 56 1 32 3
            blocks.6.4 56 168 56 1 44 3
            blocks.7.0 56 168 80 2 44 5
            blocks.8.0 80 240 80 1 0 5
            blocks.8.1 80 240 80 1 60 5
            blocks.8.2 80 240 80 1 0 5
            blocks.8.3 80 240 80 1 60 5
            """;

    @ParameterizedTest(name = "_make_divisible({0}, 4) = {1}")
    @CsvSource({"0.5, 4", "1, 4", "3.9, 4", "4, 4", "5.9, 8", "6, 8", "7.9, 8", "8.4, 8", "10, 12", "13.5, 16",
            "17.9, 20", "18, 20", "19.9, 20", "20.88, 20", "33.6, 32", "61, 60", "100.2, 100", "2.88, 4"})
    void makeDivisibleIsThePythonFunction(double v, int expected) {
        assertEquals(expected, GhostNetSpec.makeDivisible(v, 4));
    }

    @Test
    void halfWidthModulesAreTheReferenceModules() {
        GhostNetSpec spec = GhostNetSpec.of(0.5);
        String[] rows = MODULES_0_5X.strip().split("\n");
        assertEquals(rows.length, spec.modules().size());
        for (int i = 0; i < rows.length; i++) {
            String[] f = rows[i].trim().split(" ");
            GhostModuleSpec m = spec.modules().get(i);
            assertEquals(f[0], m.name());
            assertEquals(Integer.parseInt(f[1]), m.in(), m.name());
            assertEquals(Integer.parseInt(f[2]), m.channels(), m.name());
            assertEquals(m.name().endsWith("ghost1"), m.relu(), m.name());
            assertEquals(Double.parseDouble(f[3]), m.initialCheapScale(), 1e-7, m.name() + " Hyper-Search start");
        }
        assertEquals(8, spec.stemChannels());
        assertEquals(480, spec.finalChannels());
    }

    @Test
    void halfWidthBottlenecksAreTheReferenceBottlenecks() {
        GhostNetSpec spec = GhostNetSpec.of(0.5);
        String[] rows = BOTTLENECKS_0_5X.strip().split("\n");
        assertEquals(rows.length, spec.bottlenecks().size());
        for (int i = 0; i < rows.length; i++) {
            String[] f = rows[i].trim().split(" ");
            GhostBottleneckSpec b = spec.bottlenecks().get(i);
            assertEquals(new GhostBottleneckSpec(f[0], Integer.parseInt(f[1]), Integer.parseInt(f[2]),
                    Integer.parseInt(f[3]), Integer.parseInt(f[6]), Integer.parseInt(f[4]), Integer.parseInt(f[5]),
                    b.stageBlocks()), b);
        }
        assertTrue(spec.bottlenecks().get(0).hasIdentityShortcut(), "blocks.0.0: 8 -> 8, stride 1");
        assertEquals(5, spec.bottlenecks().get(15).stageBlocks(), "the fifth shape-preserving bottleneck in a row");
    }

    @ParameterizedTest(name = "{0} -> width {1}, named {2}")
    @CsvSource({"0.5x, 0.5, 0.5x", "1.0x, 1.0, 1.0x", "1x, 1.0, 1.0x", "1.3, 1.3, 1.3x", "0.58X, 0.58, 0.58x",
            "2.0x, 2.0, 2.0x"})
    void variantNamesAreWidths(String name, double width, String canonical) {
        GhostNetSpec s = GhostNetSpec.parse(name);
        assertEquals(width, s.width(), 0);
        assertEquals(canonical, s.name());
        assertEquals("3x224x224", s.inputShape());
        assertEquals(1000, s.numClasses());
        assertEquals(GhostNetSpec.DEFAULT_DROPOUT, s.dropout(), 0);
    }

    @Test
    void badVariantsAndShapesAreRefusedByName() {
        IllegalArgumentException name = assertThrows(IllegalArgumentException.class, () -> GhostNetSpec.parse("B1"));
        assertTrue(name.getMessage().contains("'B1'") && name.getMessage().contains("0.5x"), name.getMessage());
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class, () -> GhostNetSpec.of(0));
        assertTrue(zero.getMessage().contains("width multiplier"), zero.getMessage());
        IllegalArgumentException input = assertThrows(IllegalArgumentException.class,
                () -> GhostNetSpec.of(0.5).withInput(0, 28, 28));
        assertTrue(input.getMessage().contains("0.5x") && input.getMessage().contains("0x28x28"), input.getMessage());
        IllegalArgumentException classes = assertThrows(IllegalArgumentException.class,
                () -> GhostNetSpec.of(0.5).withClasses(1));
        assertTrue(classes.getMessage().contains("at least 2 classes"), classes.getMessage());
        IllegalArgumentException dropout = assertThrows(IllegalArgumentException.class,
                () -> GhostNetSpec.of(0.5).withDropout(1));
        assertTrue(dropout.getMessage().contains("dropout"), dropout.getMessage());
    }

    @Test
    void scalesAreCheckedModuleByModule() {
        GhostNetSpec spec = GhostNetSpec.of(0.5);
        List<BlockScales> scales = new ArrayList<>();
        for (GhostModuleSpec m : spec.modules()) {
            scales.add(GhostNets.ones(m));
        }
        spec.requireMatches(scales, "RepOptGhostNet-0.5x");
        List<BlockScales> wrong = new ArrayList<>(scales);
        wrong.set(3, GhostNets.ones(new GhostModuleSpec("blocks.1.0.ghost2", 12, 16, false, 2)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> spec.requireMatches(wrong, "RepOptGhostNet-0.5x"));
        assertTrue(e.getMessage().contains("module 3 is blocks.1.0.ghost2 (12->12, dw 12)")
                && e.getMessage().contains("(16->16, stride 1) in the scales"), e.getMessage());
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                () -> spec.requireMatches(scales.subList(0, 31), "RepOptGhostNet-0.5x"));
        assertTrue(count.getMessage().contains("31 modules in the scales, 32 in the model")
                && count.getMessage().contains("blocks.8.3.ghost2"), count.getMessage());
    }
}
