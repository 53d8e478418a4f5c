package org.repopt.gr;

import org.nd4j.shade.jackson.core.JsonParser;
import org.nd4j.shade.jackson.core.JsonProcessingException;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.SerializationFeature;
import org.nd4j.shade.jackson.databind.node.ArrayNode;
import org.nd4j.shade.jackson.databind.node.ObjectNode;
import org.repopt.io.AtomicFiles;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * A scales file: every CSLA block's scales of one model, in forward order, as the paper's released
 * {@code RepOpt-VGG-*-scales.json} files and this project's Hyper-Search export write them.
 *
 * <pre>{@code
 * { "model": "RepOpt-VGG-B1", "num_blocks": [4, 6, 16, 1], "width_multiplier": [2, 2, 2, 4], "source": "...",
 *   "blocks": [ { "block": "stage0", "in_channels": 3, "out_channels": 64, "stride": 2, "scale_identity": null,
 *                 "scale_conv": [...], "scale_1x1": [...],
 *                 "check_grad_mult_sgd": {"sum": ..., "at_0_0_1_1": ..., "at_0_0_0_0": ..., "at_last_last_1_1": ...} },
 *               ... ] }
 * }</pre>
 * Reading is strict: an unknown key, a missing key, a block count other than {@code 1 + sum(num_blocks)}, a block
 * whose input channels differ from the previous block's outputs, a scale array of the wrong length, a non-finite
 * value, an identity scale on a block without identity branch, or {@code check_grad_mult_sgd} figures that the
 * scales do not reproduce is an {@link IllegalArgumentException} naming the file, the block and expected vs
 * actual. {@code width_multiplier} and {@code source} are optional (a custom architecture has no multiplier).
 */
public final class ScalesFile {

    /** The variants whose scales the paper released (MIT License), shipped as resources. */
    public static final List<String> RELEASED = List.of("B1", "B2", "L1", "L2");

    private static final String RELEASED_RESOURCE = "released/RepOpt-VGG-%s-scales.json";
    private static final Set<String> TOP_KEYS = Set.of("model", "num_blocks", "width_multiplier", "source", "blocks");
    private static final Set<String> BLOCK_KEYS = Set.of("block", "in_channels", "out_channels", "stride",
            "scale_identity", "scale_conv", "scale_1x1", "check_grad_mult_sgd");
    private static final Set<String> CHECK_KEYS = Set.of("sum", "at_0_0_1_1", "at_0_0_0_0", "at_last_last_1_1");
    /** Check figures were computed in float32 by the reference code: a few float ulps, relative. */
    private static final double CHECK_ENTRY_TOLERANCE = 4.0 * Math.ulp(1.0f);
    private static final double CHECK_SUM_TOLERANCE = 1e-6;

    private final String model;
    private final int[] numBlocks;
    private final double[] widthMultiplier;
    private final String source;
    private final List<BlockScales> blocks;

    /**
     * @param model           the model the scales belong to, e.g. {@code RepOpt-VGG-B1}
     * @param numBlocks       3x3 layers per stage after the stem
     * @param widthMultiplier the variant's width multipliers, or {@code null} for a custom architecture
     * @param source          where the scales come from, or {@code null}
     * @param blocks          the stem block then every stage's blocks, in forward order
     * @throws IllegalArgumentException where the blocks do not form the architecture described
     */
    public ScalesFile(String model, int[] numBlocks, double[] widthMultiplier, String source,
                      List<BlockScales> blocks) {
        this.model = Objects.requireNonNull(model, "model");
        this.numBlocks = Objects.requireNonNull(numBlocks, "num_blocks").clone();
        this.widthMultiplier = widthMultiplier == null ? null : widthMultiplier.clone();
        this.source = source;
        this.blocks = List.copyOf(blocks);
        validateArchitecture(model);
    }

    private void validateArchitecture(String where) {
        int expected = 1 + Arrays.stream(numBlocks).sum();
        for (int n : numBlocks) {
            if (n < 0) {
                throw new IllegalArgumentException(where + ": num_blocks " + Arrays.toString(numBlocks)
                        + " has a negative entry");
            }
        }
        if (blocks.size() != expected) {
            throw new IllegalArgumentException(where + ": " + blocks.size() + " blocks, expected " + expected
                    + " (1 stem + num_blocks " + Arrays.toString(numBlocks) + ")");
        }
        Set<String> names = new HashSet<>();
        for (int b = 0; b < blocks.size(); b++) {
            BlockScales block = blocks.get(b);
            if (!names.add(block.block())) {
                throw new IllegalArgumentException(where + ": block name " + block.block() + " appears twice");
            }
            if (b > 0 && block.inChannels() != blocks.get(b - 1).outChannels()) {
                throw new IllegalArgumentException(where + ": block " + block.block() + " has in_channels "
                        + block.inChannels() + ", expected " + blocks.get(b - 1).outChannels()
                        + " (out_channels of block " + blocks.get(b - 1).block() + ")");
            }
        }
    }

    /** @return the model name */
    public String model() {
        return model;
    }

    /** @return 3x3 layers per stage after the stem (a copy) */
    public int[] numBlocks() {
        return numBlocks.clone();
    }

    /** @return the width multipliers (a copy), or {@code null} for a custom architecture */
    public double[] widthMultiplier() {
        return widthMultiplier == null ? null : widthMultiplier.clone();
    }

    /** @return the provenance note, or {@code null} */
    public String source() {
        return source;
    }

    /** @return every block's scales, in forward order (unmodifiable) */
    public List<BlockScales> blocks() {
        return blocks;
    }

    /**
     * Loads the scales the paper released for a RepOpt-VGG variant.
     *
     * @param variant one of {@link #RELEASED}, e.g. {@code "B1"}
     * @return the scales, verified against their check figures
     * @throws IllegalArgumentException for a variant without released scales
     */
    public static ScalesFile released(String variant) {
        String v = variant.toUpperCase(Locale.ROOT);
        if (!RELEASED.contains(v)) {
            throw new IllegalArgumentException("no released scales for variant '" + variant + "'; released: "
                    + RELEASED);
        }
        String resource = String.format(Locale.ROOT, RELEASED_RESOURCE, v);
        try (InputStream in = ScalesFile.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("resource " + resource + " missing from the repopt-dl4j jar");
            }
            return read(in, "released:" + v);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read resource " + resource, e);
        }
    }

    /**
     * Reads and validates a scales file.
     *
     * @param file a JSON scales file
     * @return the validated scales
     * @throws IOException              when the file cannot be read
     * @throws IllegalArgumentException when its content is not a valid scales file (the message names the file)
     */
    public static ScalesFile read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, file.toString());
        }
    }

    /**
     * Reads and validates scales from a stream.
     *
     * @param in   JSON text
     * @param name what to call the source in error messages
     * @return the validated scales
     * @throws IOException              when the stream cannot be read
     * @throws IllegalArgumentException when its content is not a valid scales file
     */
    public static ScalesFile read(InputStream in, String name) throws IOException {
        JsonNode root;
        try {
            root = mapper().readTree(in);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(name + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(name + ": expected a JSON object at the top level");
        }
        checkKeys(root, TOP_KEYS, name);
        String model = text(root, "model", name, true);
        int[] numBlocks = intArray(required(root, "num_blocks", name), name + ": num_blocks");
        double[] width = root.hasNonNull("width_multiplier")
                ? doubleArray(root.get("width_multiplier"), name + ": width_multiplier") : null;
        String source = text(root, "source", name, false);
        JsonNode blocksNode = required(root, "blocks", name);
        if (!blocksNode.isArray()) {
            throw new IllegalArgumentException(name + ": blocks must be an array");
        }
        List<BlockScales> blocks = new ArrayList<>();
        for (int b = 0; b < blocksNode.size(); b++) {
            blocks.add(readBlock(blocksNode.get(b), name + ": blocks[" + b + "]"));
        }
        try {
            return new ScalesFile(model, numBlocks, width, source, blocks);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
        }
    }

    private static BlockScales readBlock(JsonNode node, String where) {
        if (!node.isObject()) {
            throw new IllegalArgumentException(where + ": expected an object");
        }
        String blockName = text(node, "block", where, true);
        String at = where + " (" + blockName + ")";
        checkKeys(node, BLOCK_KEYS, at);
        BlockScales scales;
        try {
            JsonNode identity = required(node, "scale_identity", at);
            scales = new BlockScales(blockName,
                    integer(required(node, "in_channels", at), at + ": in_channels"),
                    integer(required(node, "out_channels", at), at + ": out_channels"),
                    integer(required(node, "stride", at), at + ": stride"),
                    doubleArray(required(node, "scale_conv", at), at + ": scale_conv"),
                    doubleArray(required(node, "scale_1x1", at), at + ": scale_1x1"),
                    identity.isNull() ? null : doubleArray(identity, at + ": scale_identity"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
        if (node.has("check_grad_mult_sgd")) {
            verifyCheck(scales, node.get("check_grad_mult_sgd"), at);
        }
        return scales;
    }

    private static void verifyCheck(BlockScales s, JsonNode check, String where) {
        String at = where + ": check_grad_mult_sgd";
        if (!check.isObject()) {
            throw new IllegalArgumentException(at + " must be an object");
        }
        checkKeys(check, CHECK_KEYS, at);
        int last = s.outChannels() - 1;
        int lastIn = s.inChannels() - 1;
        compare(at + ".sum", number(required(check, "sum", at), at + ".sum"),
                GradMult.sum(s, GradMult.Form.SGD), CHECK_SUM_TOLERANCE);
        compare(at + ".at_0_0_1_1", number(required(check, "at_0_0_1_1", at), at),
                GradMult.at(s, GradMult.Form.SGD, 0, 0, 1, 1), CHECK_ENTRY_TOLERANCE);
        compare(at + ".at_0_0_0_0", number(required(check, "at_0_0_0_0", at), at),
                GradMult.at(s, GradMult.Form.SGD, 0, 0, 0, 0), CHECK_ENTRY_TOLERANCE);
        compare(at + ".at_last_last_1_1", number(required(check, "at_last_last_1_1", at), at),
                GradMult.at(s, GradMult.Form.SGD, last, lastIn, 1, 1), CHECK_ENTRY_TOLERANCE);
    }

    private static void compare(String what, double expected, double actual, double relTolerance) {
        if (Math.abs(expected - actual) > relTolerance * Math.max(1.0, Math.abs(expected))) {
            throw new IllegalArgumentException(what + " is " + expected + " but the scales give " + actual
                    + ": the scales are corrupt or belong to another file");
        }
    }

    /**
     * Writes this file atomically ({@link AtomicFiles}), with the SGD check
     * figures of every block, in the format {@link #read(Path)} accepts.
     *
     * @param file where to write
     * @throws IOException when writing fails; an existing file is then left as it was
     */
    public void write(Path file) throws IOException {
        byte[] json = toJson().getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(file, out -> out.write(json));
    }

    /** @return the JSON text {@link #write} writes */
    public String toJson() {
        ObjectMapper mapper = mapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("model", model);
        ArrayNode nb = root.putArray("num_blocks");
        Arrays.stream(numBlocks).forEach(nb::add);
        if (widthMultiplier != null) {
            ArrayNode wm = root.putArray("width_multiplier");
            Arrays.stream(widthMultiplier).forEach(wm::add);
        }
        if (source != null) {
            root.put("source", source);
        }
        ArrayNode arr = root.putArray("blocks");
        for (BlockScales s : blocks) {
            ObjectNode b = mapper.valueToTree(s);
            ObjectNode check = b.putObject("check_grad_mult_sgd");
            int last = s.outChannels() - 1;
            check.put("sum", GradMult.sum(s, GradMult.Form.SGD));
            check.put("at_0_0_1_1", GradMult.at(s, GradMult.Form.SGD, 0, 0, 1, 1));
            check.put("at_0_0_0_0", GradMult.at(s, GradMult.Form.SGD, 0, 0, 0, 0));
            check.put("at_last_last_1_1", GradMult.at(s, GradMult.Form.SGD, last, s.inChannels() - 1, 1, 1));
            arr.add(b);
        }
        try {
            return mapper.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize scales of " + model, e);
        }
    }

    private static ObjectMapper mapper() {
        // NaN and Infinity parse as numbers so that the block check can name the offending value.
        return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                .enable(JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS);
    }

    private static void checkKeys(JsonNode node, Set<String> known, String where) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!known.contains(key)) {
                throw new IllegalArgumentException(where + ": unknown key '" + key + "'; known keys: "
                        + known.stream().sorted().toList());
            }
        }
    }

    private static JsonNode required(JsonNode node, String key, String where) {
        JsonNode v = node.get(key);
        if (v == null) {
            throw new IllegalArgumentException(where + ": missing key '" + key + "'");
        }
        return v;
    }

    private static String text(JsonNode node, String key, String where, boolean required) {
        JsonNode v = required ? required(node, key, where) : node.get(key);
        if (v == null || (!required && v.isNull())) {
            return null;
        }
        if (!v.isTextual()) {
            throw new IllegalArgumentException(where + ": '" + key + "' must be a string, got " + v.getNodeType());
        }
        return v.asText();
    }

    private static int integer(JsonNode v, String what) {
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new IllegalArgumentException(what + " must be an integer, got " + v);
        }
        return v.intValue();
    }

    private static double number(JsonNode v, String what) {
        if (!v.isNumber()) {
            throw new IllegalArgumentException(what + " must be a number, got " + v);
        }
        return v.doubleValue();
    }

    private static int[] intArray(JsonNode v, String what) {
        if (!v.isArray()) {
            throw new IllegalArgumentException(what + " must be an array of integers");
        }
        int[] out = new int[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = integer(v.get(i), what + "[" + i + "]");
        }
        return out;
    }

    private static double[] doubleArray(JsonNode v, String what) {
        if (!v.isArray()) {
            throw new IllegalArgumentException(what + " must be an array of numbers, got " + v.getNodeType());
        }
        double[] out = new double[v.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode e = v.get(i);
            if (e.isTextual()) {
                throw new IllegalArgumentException(what + "[" + i + "] is \"" + e.asText()
                        + "\", expected a finite number");
            }
            out[i] = number(e, what + "[" + i + "]");
        }
        return out;
    }
}
