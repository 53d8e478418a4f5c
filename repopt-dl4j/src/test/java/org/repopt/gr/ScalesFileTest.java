package org.repopt.gr;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.node.ArrayNode;
import org.nd4j.shade.jackson.databind.node.ObjectNode;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Strict reading and atomic writing of scales files. */
class ScalesFileTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** stem 3->4 stride 2, then 4->4 stride 1 (identity), then 4->6 stride 2. */
    private static ScalesFile small() {
        double[] four = {1.0, 0.5, 2.0, 1.5};
        double[] six = {1, 2, 3, 4, 5, 6};
        return new ScalesFile("RepOpt-VGG-test", new int[]{1, 1}, null, "unit test", List.of(
                new BlockScales("stage0", 3, 4, 2, four, four, null),
                new BlockScales("stage1.0", 4, 4, 1, four, four, four),
                new BlockScales("stage2.0", 4, 6, 2, six, six, null)));
    }

    private static String mutated(Consumer<ObjectNode> change) throws IOException {
        ObjectNode root = (ObjectNode) JSON.readTree(small().toJson());
        change.accept(root);
        return JSON.writeValueAsString(root);
    }

    private static ObjectNode block(ObjectNode root, int i) {
        return (ObjectNode) root.get("blocks").get(i);
    }

    private static IllegalArgumentException rejected(String json) {
        return rejectedAs(json);
    }

    @Test
    void writeThenReadIsExact(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("scales.json");
        small().write(f);
        ScalesFile back = ScalesFile.read(f);
        assertEquals(small().blocks(), back.blocks());
        assertEquals("RepOpt-VGG-test", back.model());
        try (var files = Files.list(dir)) {
            assertEquals(List.of(f), files.toList(), "no temporary file left behind");
        }
    }

    @Test
    void wrongBlockCount() throws IOException {
        assertMessage(rejected(mutated(r -> ((ArrayNode) r.get("blocks")).remove(2))),
                "test.json", "2 blocks, expected 3");
    }

    @Test
    void wrongChannelCount() throws IOException {
        assertMessage(rejected(mutated(r -> ((ArrayNode) block(r, 2).get("scale_conv")).remove(0))),
                "test.json", "stage2.0", "scale_conv has 5 values, expected 6");
    }

    @Test
    void identityOnAStrideTwoBlock() throws IOException {
        assertMessage(rejected(mutated(r -> block(r, 0).set("scale_identity", block(r, 1).get("scale_identity")))),
                "stage0", "scale_identity given", "stride=2", "no identity branch");
    }

    @Test
    void identityWhereInDiffersFromOut() throws IOException {
        assertMessage(rejected(mutated(r -> block(r, 2).set("scale_identity", block(r, 2).get("scale_conv")))),
                "stage2.0", "in_channels=4, out_channels=6", "no identity branch");
    }

    @Test
    void missingIdentityOnAnIdentityBlock() throws IOException {
        assertMessage(rejected(mutated(r -> block(r, 1).putNull("scale_identity"))),
                "stage1.0", "scale_identity missing");
    }

    @Test
    void nanAndInfinityAreNamed() {
        String nan = small().toJson().replaceFirst("\"scale_1x1\" : \\[ 1.0,", "\"scale_1x1\" : [ NaN,");
        assertMessage(rejected(nan), "stage0", "scale_1x1[0] is NaN");
        String inf = small().toJson().replaceFirst("\"scale_conv\" : \\[ 1.0,", "\"scale_conv\" : [ Infinity,");
        assertMessage(rejected(inf), "stage0", "scale_conv[0] is Infinity");
    }

    @Test
    void unknownKeys() throws IOException {
        assertMessage(rejected(mutated(r -> r.put("modle", "typo"))), "unknown key 'modle'");
        assertMessage(rejected(mutated(r -> block(r, 1).put("scale_idenity", 1))), "stage1.0",
                "unknown key 'scale_idenity'");
    }

    @Test
    void inputChannelsMustChain() throws IOException {
        assertMessage(rejected(mutated(r -> block(r, 2).put("in_channels", 5).remove("check_grad_mult_sgd"))),
                "stage2.0", "in_channels 5",
                "expected 4", "out_channels of block stage1.0");
    }

    @Test
    void checkFiguresThatTheScalesDoNotReproduce() throws IOException {
        assertMessage(rejected(mutated(r -> ((ObjectNode) block(r, 1).get("check_grad_mult_sgd")).put("sum", 1.0))),
                "stage1.0", "check_grad_mult_sgd.sum", "corrupt");
    }

    @Test
    void notJson() {
        assertMessage(rejected("{\"model\": "), "test.json", "not valid JSON");
    }

    @Test
    void unknownReleasedVariant() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ScalesFile.released("A0"));
        assertMessage(e, "A0", "B1");
    }

    // Issue 11, defect 6: the strict reader accepted these, or doubled the location prefix.

    @Test
    void duplicateKeysAreRefused() {
        String twice = small().toJson().replaceFirst("\\{", "{ \"model\" : \"first\",");
        ScalesFormatException e = rejectedAs(twice);
        assertMessage(e, "test.json", "duplicate key 'model'", "line 2");
        assertEquals("model", e.field());
        String inBlock = small().toJson().replaceFirst("\"stride\" : 2,", "\"stride\" : 2, \"stride\" : 1,");
        assertMessage(rejectedAs(inBlock), "test.json", "duplicate key 'stride'");
    }

    @Test
    void trailingContentAfterTheJsonIsRefused() {
        assertMessage(rejectedAs(small().toJson() + "\n{\"model\": \"another\"}"), "test.json",
                "content after the JSON value");
        assertMessage(rejectedAs(small().toJson() + " garbage"), "test.json", "not valid JSON");
    }

    @Test
    void aChannelWithEveryScaleZeroIsRefused() throws IOException {
        ScalesFormatException e = rejectedAs(mutated(r -> {
            ObjectNode b = block(r, 1);
            for (String f : List.of("scale_conv", "scale_1x1", "scale_identity")) {
                ((ArrayNode) b.get(f)).set(2, JSON.getNodeFactory().numberNode(0.0));
            }
            b.remove("check_grad_mult_sgd");
        }));
        assertMessage(e, "test.json", "stage1.0", "channel 2 has every branch scale 0", "never train");
        assertEquals("stage1.0", e.block());
        ScalesFormatException all = rejectedAs(mutated(r -> {
            ObjectNode b = block(r, 0);
            for (String f : List.of("scale_conv", "scale_1x1")) {
                b.set(f, JSON.valueToTree(new double[4]));
            }
        }));
        assertMessage(all, "stage0", "channel 0 has every branch scale 0");
    }

    @Test
    void aMissingKeyInABlockIsNamedOnce() throws IOException {
        ScalesFormatException e = rejectedAs(mutated(r -> block(r, 1).remove("stride")));
        assertEquals("test.json blocks[1] (stage1.0): field 'stride' must be an int, got null (missing key 'stride')",
                e.getMessage());
        assertEquals("test.json", e.file());
        assertEquals("stage1.0", e.block());
        assertEquals("stride", e.field());
    }

    @Test
    void theExceptionCarriesFileBlockFieldExpectedAndActual() throws IOException {
        ScalesFormatException e = rejectedAs(mutated(r -> ((ArrayNode) block(r, 2).get("scale_conv")).remove(0)));
        assertEquals("test.json", e.file());
        assertEquals("stage2.0", e.block());
        assertEquals("scale_conv", e.field());
        assertEquals("6 values (out_channels)", e.expected());
        assertEquals("5 values", e.actual());
        ScalesFormatException type = rejectedAs(mutated(r -> block(r, 0).put("stride", "two")));
        assertEquals("stride", type.field());
        assertEquals("\"two\"", type.actual());
        assertMessage(type, "test.json blocks[0] (stage0): field 'stride' must be an int, got \"two\"");
        ScalesFormatException chain = rejectedAs(mutated(r -> block(r, 2).put("in_channels", 5)
                .remove("check_grad_mult_sgd")));
        assertEquals("in_channels", chain.field());
        assertEquals("4", chain.expected());
        assertEquals("5", chain.actual());
    }

    @Test
    void aMissingFileIsNamedWithWhatWasExpected(@TempDir Path dir) {
        Path missing = dir.resolve("nope.json");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> ScalesFile.read(missing));
        assertMessage(e, missing.toString(), "no such file", "expected a scales file");
    }

    // Issue 10 item 1, issue 16: kernel, groups and blocks without a 1x1 branch.

    /** A depthwise stride-1 block, a 5x5 block without 1x1 branch, a depthwise stride-2 5x5 block: no VGG chain. */
    private static ScalesFile general() {
        double[] four = {1.0, 0.5, 2.0, 1.5};
        double[] six = {1, 2, 3, 4, 5, 6};
        return new ScalesFile("custom", null, null, "unit test", List.of(
                BlockScales.depthwise("dw", 4, 1, 3, four, new double[]{0.5, 1, 1, 2}),
                new BlockScales("conv5", 4, 6, 2, 5, 1, six, null, null),
                BlockScales.depthwise("dw5", 6, 2, 5, six, null)));
    }

    @Test
    void kernelGroupsAndNoOneByOneRoundTrip(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("general.json");
        general().write(f);
        ScalesFile back = ScalesFile.read(f);
        assertEquals(general().blocks(), back.blocks());
        assertNull(back.numBlocks());
        BlockScales dw = back.blocks().get(0);
        assertTrue(dw.depthwise() && dw.groups() == 4 && dw.kernel() == 3 && !dw.hasConv1x1() && dw.hasIdentity());
        assertNull(dw.scale1x1());
        BlockScales conv5 = back.blocks().get(1);
        assertTrue(!conv5.depthwise() && conv5.groups() == 1 && conv5.kernel() == 5 && !conv5.hasConv1x1());
        ObjectNode written = (ObjectNode) JSON.readTree(Files.readString(f));
        ObjectNode check = (ObjectNode) block(written, 2).get("check_grad_mult_sgd");
        assertEquals("[6,1,5,5]", check.get("shape").toString());
        assertTrue(check.has("at_last_0_1_1") && !check.has("at_last_last_1_1"), check.toString());
        assertTrue(block(written, 0).get("scale_1x1").isNull());
    }

    @Test
    void filesWithoutKernelAndGroupsReadAsThreeByThreeGroupsOne() throws IOException {
        String old = mutated(r -> r.get("blocks").forEach(b -> ((ObjectNode) b).remove(List.of("kernel", "groups"))));
        assertTrue(!old.contains("\"kernel\"") && !old.contains("\"groups\""), old);
        ScalesFile back = ScalesFile.read(new ByteArrayInputStream(old.getBytes(StandardCharsets.UTF_8)), "old.json");
        assertEquals(small().blocks(), back.blocks());
        for (BlockScales b : back.blocks()) {
            assertTrue(b.kernel() == 3 && b.groups() == 1 && !b.depthwise() && b.hasConv1x1(), b.toString());
        }
    }

    @Test
    void theReleasedGhostNetScalesReadWithTheirCheckFigures() throws IOException {
        ScalesFile ghost;
        try (InputStream in = ScalesFile.class.getResourceAsStream("released/RepOptGhostNet-0.5x-scales.json")) {
            ghost = ScalesFile.read(in, "RepOptGhostNet-0.5x-scales.json");
        }
        assertEquals("RepOptGhostNet-0.5x", ghost.model());
        assertEquals(32, ghost.blocks().size());
        assertArrayEquals(new double[]{0.5}, ghost.widthMultiplier());
        for (BlockScales b : ghost.blocks()) {
            assertTrue(b.depthwise() && b.kernel() == 3 && !b.hasConv1x1() && b.hasIdentity()
                    && b.groups() == b.inChannels() && b.inChannels() == b.outChannels(), b.toString());
        }
        // the check figures were verified on read; a changed one is refused
        String json = new String(ScalesFile.class.getResourceAsStream("released/RepOptGhostNet-0.5x-scales.json")
                .readAllBytes(), StandardCharsets.UTF_8);
        ObjectNode root = (ObjectNode) JSON.readTree(json);
        ((ObjectNode) block(root, 3).get("check_grad_mult_sgd")).put("at_last_0_1_1", 7.0);
        assertMessage(rejected(JSON.writeValueAsString(root)), "blocks.1.0.ghost2", "at_last_0_1_1", "corrupt");
    }

    @Test
    void evenOrTooSmallKernelsAreRefused() throws IOException {
        assertMessage(rejected(mutated(r -> block(r, 1).put("kernel", 4))), "stage1.0", "kernel",
                "odd int >= 3", "4");
        assertMessage(rejected(mutated(r -> block(r, 1).put("kernel", 1))), "stage1.0", "kernel", "1");
        assertMessage(rejected(mutated(r -> block(r, 1).set("kernel", JSON.valueToTree(new int[]{3, 5})))),
                "stage1.0", "kernel", "[k, k]");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                new BlockScales("b", 2, 2, 1, 2, 1, new double[2], new double[2], new double[2]));
        assertMessage(e, "block b", "odd size >= 3", "got 2");
    }

    @Test
    void groupsMustBeOneOrTheChannels() throws IOException {
        assertMessage(rejected(mutated(r -> block(r, 2).put("groups", 2))), "stage2.0", "groups",
                "groups=2 with in_channels=4, out_channels=6");
        assertMessage(rejected(mutated(r -> block(r, 2).put("groups", 4))), "stage2.0", "groups=4");
        ScalesFormatException oneByOne = rejectedAs(mutated(r -> block(r, 1).put("groups", 4)
                .remove("check_grad_mult_sgd")));
        assertMessage(oneByOne, "stage1.0", "scale_1x1 given, but a depthwise block");
        assertEquals("scale_1x1", oneByOne.field());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                new BlockScales("b", 4, 4, 1, 3, 4, new double[4], new double[4], new double[4]));
        assertMessage(e, "block b", "depthwise", "no 1x1 branch");
    }

    @Test
    void aDepthwiseBlockNeedsTheDepthwiseCheckKeys() throws IOException {
        String json = general().toJson();
        ObjectNode root = (ObjectNode) JSON.readTree(json);
        ObjectNode check = (ObjectNode) block(root, 0).get("check_grad_mult_sgd");
        check.set("at_last_last_1_1", check.remove("at_last_0_1_1"));
        assertMessage(rejected(JSON.writeValueAsString(root)), "dw", "unknown key 'at_last_last_1_1'");
        ObjectNode wrongShape = (ObjectNode) JSON.readTree(json);
        ((ObjectNode) block(wrongShape, 0).get("check_grad_mult_sgd")).set("shape",
                JSON.valueToTree(new int[]{4, 4, 3, 3}));
        assertMessage(rejected(JSON.writeValueAsString(wrongShape)), "dw", "shape", "[4, 1, 3, 3]");
    }

    @Test
    void withoutNumBlocksNamesMustStillBeUnique() throws IOException {
        ObjectNode root = (ObjectNode) JSON.readTree(general().toJson());
        block(root, 2).put("block", "dw");
        assertMessage(rejected(JSON.writeValueAsString(root)), "block name dw appears twice");
    }

    @Test
    void blockScalesJsonWithoutKernelAndGroupsStillReads() throws IOException {
        BlockScales vgg = small().blocks().get(1);
        ObjectNode node = JSON.valueToTree(vgg);
        assertEquals(3, node.get("kernel").asInt());
        assertEquals(1, node.get("groups").asInt());
        node.remove(List.of("kernel", "groups"));
        assertEquals(vgg, JSON.treeToValue(node, BlockScales.class));
        BlockScales dw = general().blocks().get(2);
        assertEquals(dw, JSON.treeToValue(JSON.valueToTree(dw), BlockScales.class));
    }

    private static ScalesFormatException rejectedAs(String json) {
        return assertThrows(ScalesFormatException.class, () -> ScalesFile.read(
                new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), "test.json"));
    }

    private static void assertMessage(Exception e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' lacks '" + p + "'");
        }
    }
}
