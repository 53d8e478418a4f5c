package org.repopt.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.node.ArrayNode;
import org.nd4j.shade.jackson.databind.node.ObjectNode;
import org.repopt.gr.BlockScales;
import org.repopt.gr.GradMult;
import org.repopt.gr.GradMultHook;
import org.repopt.gr.RepOptimizer;
import org.repopt.gr.ScalesFile;
import org.repopt.gr.ScalesFormatException;
import org.repopt.nn.ParamValues;
import org.repopt.testing.GhostNets;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The released RepOptGhostNet-0.5x scales as a resource, and RepOpt-GhostNet scales files of any width. */
class GhostNetScalesTest {

    private static final String RESOURCE = "released/RepOptGhostNet-0.5x-scales.json";

    private static JsonNode raw() throws IOException {
        try (InputStream in = ScalesFile.class.getResourceAsStream(RESOURCE)) {
            return new ObjectMapper().readTree(in);
        }
    }

    /**
     * Every module's SGD Grad Mult, built whole as the [C, 1, 3, 3] multiplier, gives the file's check figures (the
     * reference code's): the sum within 1e-6 relative, the entries to float precision.
     */
    @Test
    void releasedScalesGiveTheReferenceGradMultFigures() throws IOException {
        ScalesFile scales = GhostNetScales.released("0.5x");
        JsonNode raw = raw();
        assertEquals("RepOptGhostNet-0.5x", scales.model());
        assertEquals(32, scales.blocks().size());
        assertArrayEquals(new double[]{0.5}, scales.widthMultiplier());
        assertTrue(scales.source().contains("MIT License"), scales.source());
        List<GhostModuleSpec> modules = GhostNetSpec.of(0.5).modules();
        for (int b = 0; b < scales.blocks().size(); b++) {
            BlockScales s = scales.blocks().get(b);
            JsonNode entry = raw.get("blocks").get(b);
            assertEquals(modules.get(b).name(), s.block());
            assertTrue(s.depthwise() && s.kernel() == 3 && !s.hasConv1x1() && s.hasIdentity(), s.toString());
            assertNull(s.scale1x1(), s.block() + ": no 1x1 branch");
            assertEquals(entry.get("scale_conv").get(0).asDouble(), s.scaleConv()[0], 0.0, s.block() + " unchanged");
            assertEquals(entry.get("scale_identity").get(s.outChannels() - 1).asDouble(),
                    s.scaleIdentity()[s.outChannels() - 1], 0.0);
            JsonNode check = entry.get("check_grad_mult_sgd");
            double[] m = ParamValues.of(GradMult.create(s, GradMult.Form.SGD, DataType.DOUBLE));
            assertEquals(s.outChannels() * 9, m.length, s.block() + ": [C, 1, 3, 3]");
            double sum = 0;
            for (double v : m) {
                sum += v;
            }
            double expectedSum = check.get("sum").asDouble();
            assertTrue(Math.abs(sum - expectedSum) <= 1e-6 * expectedSum, s.block() + ": sum " + sum + " vs "
                    + expectedSum);
            assertFloatExact(check.get("at_0_0_1_1").asDouble(), m[4], s.block() + " [0,0,1,1]");
            assertFloatExact(check.get("at_0_0_0_0").asDouble(), m[0], s.block() + " [0,0,0,0]");
            assertFloatExact(check.get("at_last_0_1_1").asDouble(), m[(s.outChannels() - 1) * 9 + 4],
                    s.block() + " [last,0,1,1]");
            // the definition: cheap^2 at every tap, plus 1 at the centre
            double c0 = s.scaleConv()[0];
            assertEquals(c0 * c0 + 1, m[4], 1e-12 * m[4]);
            assertEquals(c0 * c0, m[0], 1e-12 * m[0]);
        }
    }

    /**
     * The released scales on RepOptGhostNet-0.5x at Fashion-MNIST's shape: each module's Grad Mult on its cheap
     * depthwise conv (by name), carrying that module's scales; no other layer gets one.
     */
    @Test
    void releasedScalesGoOntoTheCheapDepthwiseConvsByName() {
        RepOptGhostNet half = RepOptGhostNet.builder(GhostNetSpec.of(0.5).withInput(1, 28, 28).withClasses(10)).build();
        ScalesFile scales = GhostNetScales.released("0.5x");
        ComputationGraphConfiguration conf = RepOptimizer.sgd(scales).mapByName(half.cheapConvOfModule())
                .configure(half.conf());
        java.util.Map<String, String> cheap = half.cheapConvOfModule();
        int hooks = 0;
        for (java.util.Map.Entry<String, GraphVertex> v : conf.getVertices().entrySet()) {
            if (!(v.getValue() instanceof LayerVertex lv) || !(lv.getLayerConf().getLayer() instanceof BaseLayer l)) {
                continue;
            }
            List<GradMultHook> attached = l.getRegularization() == null ? List.of() : l.getRegularization().stream()
                    .filter(GradMultHook.class::isInstance).map(GradMultHook.class::cast).toList();
            if (cheap.containsValue(v.getKey())) {
                assertEquals(1, attached.size(), v.getKey());
                BlockScales s = attached.get(0).scales();
                assertEquals(cheap.get(s.block()), v.getKey(), "module " + s.block() + " on its own cheap conv");
                assertEquals(scales.blocks().stream().filter(b -> b.block().equals(s.block())).findFirst()
                        .orElseThrow(), s);
                assertTrue(l instanceof DepthwiseConvolution2D, v.getKey());
                hooks++;
            } else {
                assertTrue(attached.isEmpty(), v.getKey() + " is no cheap conv and gets no Grad Mult");
            }
        }
        assertEquals(32, hooks);
    }

    private static void assertFloatExact(double expected, double actual, String what) {
        assertTrue(Math.abs(expected - actual) <= Math.ulp((float) expected),
                what + ": " + actual + " vs " + expected + " differ by more than one float ulp");
    }

    @Test
    void releasedWidthsByAnyNameAndOthersRefused() {
        assertEquals(GhostNetScales.released("0.5x").blocks(), GhostNetScales.released("0.5").blocks());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GhostNetScales.released("1.0x"));
        assertTrue(e.getMessage().contains("1.0x") && e.getMessage().contains("[0.5x]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> GhostNetScales.released("B1"));
    }

    /** An edited scale no longer reproduces its check figures: refused, naming the module and the figure. */
    @Test
    void aCorruptedScaleIsRefusedByModule(@TempDir Path dir) throws IOException {
        JsonNode raw = raw();
        ObjectNode module = (ObjectNode) raw.get("blocks").get(5);
        ((ArrayNode) module.get("scale_conv")).set(0, 1.25);
        Path file = dir.resolve("edited.json");
        Files.writeString(file, new ObjectMapper().writeValueAsString(raw));
        ScalesFormatException e = assertThrows(ScalesFormatException.class, () -> ScalesFile.read(file));
        assertEquals(module.get("block").asText(), e.block());
        assertTrue(e.getMessage().contains("check_grad_mult_sgd"), e.getMessage());
    }

    /** Searched scales of any width: written with their check figures, read back equal, fit only their width. */
    @Test
    void scalesOfAWidthRoundTripAndFitOnlyThatWidth(@TempDir Path dir) throws IOException {
        GhostNetSpec quarter = GhostNetSpec.of(0.25);
        ScalesFile scales = GhostNetScales.of(quarter, "test", GhostNets.randomScales(quarter, 3));
        assertEquals("RepOptGhostNet-0.25x", scales.model());
        Path file = dir.resolve("scales.json");
        scales.write(file);
        ScalesFile back = ScalesFile.read(file);
        assertEquals(scales.blocks(), back.blocks());
        assertEquals("RepOptGhostNet-0.25x", back.model());
        GhostNetScales.requireFits(back, quarter.withInput(1, 28, 28).withClasses(10));
        IllegalArgumentException wrongWidth = assertThrows(IllegalArgumentException.class,
                () -> GhostNetScales.requireFits(back, GhostNetSpec.of(0.5)));
        assertTrue(wrongWidth.getMessage().contains("RepOptGhostNet-0.5x"), wrongWidth.getMessage());
        IllegalArgumentException vgg = assertThrows(IllegalArgumentException.class,
                () -> GhostNetScales.requireFits(ScalesFile.released("B1"), GhostNetSpec.of(0.5)));
        assertTrue(vgg.getMessage().contains("RepOpt-VGG-B1") && vgg.getMessage().contains("num_blocks"),
                vgg.getMessage());
        assertFalse(Files.readString(file).contains("num_blocks"));
    }
}
