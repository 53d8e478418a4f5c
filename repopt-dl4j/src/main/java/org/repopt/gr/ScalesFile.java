package org.repopt.gr;

import org.nd4j.shade.jackson.core.JsonProcessingException;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.SerializationFeature;
import org.nd4j.shade.jackson.databind.node.ArrayNode;
import org.nd4j.shade.jackson.databind.node.ObjectNode;
import org.repopt.io.AtomicFiles;
import org.repopt.io.JsonFormatException;
import org.repopt.io.StrictJson;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A scales file: every CSLA block's scales of one model, in forward order, as the paper's released
 * {@code RepOpt-VGG-*-scales.json} files, the converted {@code RepOptGhostNet-0.5x-scales.json} and this project's
 * Hyper-Search export write them.
 *
 * <pre>{@code
 * { "model": "RepOpt-VGG-B1", "num_blocks": [4, 6, 16, 1], "width_multiplier": [2, 2, 2, 4], "source": "...",
 *   "blocks": [ { "block": "stage0", "in_channels": 3, "out_channels": 64, "stride": 2, "scale_identity": null,
 *                 "scale_conv": [...], "scale_1x1": [...],
 *                 "check_grad_mult_sgd": {"sum": ..., "at_0_0_1_1": ..., "at_0_0_0_0": ..., "at_last_last_1_1": ...} },
 *               ... ] }
 * }</pre>
 * Reading is strict ({@link StrictJson}): anything but one JSON object, a duplicate, unknown or missing key, a block
 * count other than {@code 1 + sum(num_blocks)}, a block whose input channels differ from the previous block's
 * outputs, a scale array of the wrong length, a non-finite value, an identity scale on a block without identity
 * branch (or none on a block with one), a channel whose every branch scale is 0, or {@code check_grad_mult_sgd}
 * figures that the scales do not reproduce is a {@link ScalesFormatException} naming the file, the block and expected
 * vs actual. {@code width_multiplier} (an array, or one number) and {@code source} are optional (a custom
 * architecture has no multiplier).
 *
 * <p>{@code num_blocks} is optional too: without it the blocks are a network's re-parameterized convs in forward order
 * that need not form a VGG chain (RepOpt-GhostNet's modules, a user's own graph), so neither the block count nor the
 * chaining of channels is checked; names must still be unique. A block may say {@code "kernel"} (odd, {@code >= 3};
 * an int, or {@code [k, k]} as the converted GhostNet file writes it; default 3) and {@code "groups"} (1 or
 * {@code in_channels == out_channels} for a depthwise conv; default 1), and may omit {@code scale_1x1} or give it as
 * {@code null} for a block without 1x1 branch (a depthwise block must). A depthwise block's check figures are
 * {@code sum}, {@code at_0_0_1_1}, {@code at_0_0_0_0} and {@code at_last_0_1_1} of its {@code [C, 1, k, k]}
 * multiplier; every block's may add {@code shape}, the multiplier's shape {@code [out, in / groups, k, k]}.
 */
public final class ScalesFile {

    /** The variants whose scales the paper released (MIT License), shipped as resources. */
    public static final List<String> RELEASED = List.of("B1", "B2", "L1", "L2");

    private static final String RELEASED_RESOURCE = "released/RepOpt-VGG-%s-scales.json";
    private static final Set<String> TOP_KEYS = Set.of("model", "num_blocks", "width_multiplier", "source", "blocks");
    private static final Set<String> BLOCK_KEYS = Set.of("block", "in_channels", "out_channels", "stride", "kernel",
            "groups", "scale_identity", "scale_conv", "scale_1x1", "check_grad_mult_sgd");
    private static final Set<String> CHECK_KEYS = Set.of("shape", "sum", "at_0_0_1_1", "at_0_0_0_0",
            "at_last_last_1_1");
    private static final Set<String> DEPTHWISE_CHECK_KEYS = Set.of("shape", "sum", "at_0_0_1_1", "at_0_0_0_0",
            "at_last_0_1_1");
    /** Check figures were computed in float32 by the reference code: a few float ulps, relative. */
    private static final double CHECK_ENTRY_TOLERANCE = 4.0 * Math.ulp(1.0f);
    private static final double CHECK_SUM_TOLERANCE = 1e-6;
    private static final String FILE_DESCRIPTION = "a scales file (JSON with model, num_blocks and blocks)";

    private final String model;
    private final int[] numBlocks;
    private final double[] widthMultiplier;
    private final String source;
    private final List<BlockScales> blocks;

    /**
     * @param model           the model the scales belong to, e.g. {@code RepOpt-VGG-B1}
     * @param numBlocks       3x3 layers per stage after the stem, or {@code null} for blocks that are not a VGG chain
     * @param widthMultiplier the variant's width multipliers, or {@code null} for a custom architecture
     * @param source          where the scales come from, or {@code null}
     * @param blocks          the stem block then every stage's blocks, in forward order
     * @throws IllegalArgumentException where the blocks do not form the architecture described
     */
    public ScalesFile(String model, int[] numBlocks, double[] widthMultiplier, String source,
                      List<BlockScales> blocks) {
        this.model = Objects.requireNonNull(model, "model");
        this.numBlocks = numBlocks == null ? null : numBlocks.clone();
        this.widthMultiplier = widthMultiplier == null ? null : widthMultiplier.clone();
        this.source = source;
        this.blocks = List.copyOf(blocks);
        architectureProblem(model, this.numBlocks, this.blocks, null).ifPresent(p -> {
            throw new IllegalArgumentException(p.getMessage(), p);
        });
    }

    /** @return the model name */
    public String model() {
        return model;
    }

    /** @return 3x3 layers per stage after the stem (a copy), or {@code null} where the blocks are not a VGG chain */
    public int[] numBlocks() {
        return numBlocks == null ? null : numBlocks.clone();
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
     * @throws java.nio.file.NoSuchFileException when the file does not exist (the message names it)
     * @throws IOException                       when the file cannot be read
     * @throws ScalesFormatException             when its content is not a valid scales file (the message names the
     *                                           file, the block and expected vs actual)
     */
    public static ScalesFile read(Path file) throws IOException {
        return fromJson(() -> StrictJson.read(file, FILE_DESCRIPTION));
    }

    /**
     * Reads and validates scales from a stream.
     *
     * @param in   JSON text
     * @param name what to call the source in error messages
     * @return the validated scales
     * @throws IOException           when the stream cannot be read
     * @throws ScalesFormatException when its content is not a valid scales file
     */
    public static ScalesFile read(InputStream in, String name) throws IOException {
        return fromJson(() -> StrictJson.parse(in, name));
    }

    /** Parses JSON text into its root value. */
    @FunctionalInterface
    private interface Parser {
        StrictJson.Node parse() throws IOException;
    }

    private static ScalesFile fromJson(Parser parser) throws IOException {
        try {
            StrictJson.Node root = parser.parse();
            root.requireKeys(TOP_KEYS);
            String model = root.get("model").text();
            int[] numBlocks = root.optional("num_blocks").map(StrictJson.Node::integers).orElse(null);
            double[] width = root.optional("width_multiplier").map(ScalesFile::widthMultiplier).orElse(null);
            String source = root.optional("source").map(StrictJson.Node::text).orElse(null);
            List<StrictJson.Node> nodes = root.get("blocks").elements();
            List<BlockScales> blocks = new ArrayList<>();
            for (StrictJson.Node node : nodes) {
                blocks.add(readBlock(node));
            }
            Optional<ScalesFormatException> problem = architectureProblem(root.source(), numBlocks, blocks, nodes);
            if (problem.isPresent()) {
                throw problem.get();
            }
            return new ScalesFile(model, numBlocks, width, source, blocks);
        } catch (ScalesFormatException e) {
            throw e;
        } catch (JsonFormatException e) {
            throw new ScalesFormatException(e, null);
        }
    }

    /** {@code width_multiplier}: an array of finite numbers, or one (as the converted GhostNet file writes it). */
    private static double[] widthMultiplier(StrictJson.Node n) {
        return n.json().isNumber() ? new double[]{n.finite()} : n.finiteNumbers();
    }

    /** {@code kernel}: an odd int {@code >= 3}, or {@code [k, k]}. */
    private static int kernel(StrictJson.Node n) {
        int k;
        if (n.json().isArray()) {
            int[] hw = n.integers();
            if (hw.length != 2 || hw[0] != hw[1]) {
                throw n.fail("an odd int >= 3 or a square [k, k]");
            }
            k = hw[0];
        } else {
            k = n.integer();
        }
        if (BlockScales.kernelProblem(k) != null) {
            throw n.fail("an odd int >= 3 (the 1x1 branch sits at the centre tap)");
        }
        return k;
    }

    /** Reads one entry of {@code blocks}: strict keys, types, lengths, the identity rule and the check figures. */
    private static BlockScales readBlock(StrictJson.Node entry) {
        String name = entry.get("block").text();
        StrictJson.Node node = entry.labelled(name).requireKeys(BLOCK_KEYS);
        try {
            int in = atLeastOne(node.get("in_channels"));
            int out = atLeastOne(node.get("out_channels"));
            StrictJson.Node strideNode = node.get("stride");
            int stride = strideNode.integer();
            if (stride != 1 && stride != 2) {
                throw strideNode.fail("1 or 2");
            }
            int kernel = node.optional("kernel").map(ScalesFile::kernel).orElse(BlockScales.DEFAULT_KERNEL);
            StrictJson.Node groupsNode = node.optional("groups").orElse(null);
            int groups = groupsNode == null ? 1 : groupsNode.integer();
            String groupsProblem = BlockScales.groupsProblem(in, out, groups);
            if (groupsProblem != null) {
                throw blockProblem(node, name, "groups", "1 or in_channels == out_channels (depthwise)",
                        Integer.toString(groups), groupsProblem);
            }
            double[] conv = scales(node, "scale_conv", name, out);
            double[] oneByOne = node.optional("scale_1x1").map(n -> scales(node, "scale_1x1", name, out))
                    .orElse(null);
            if (oneByOne != null && groups > 1) {
                throw blockProblem(node, name, "scale_1x1", "null (a depthwise block has no 1x1 branch)", "an array",
                        "scale_1x1 given, but a depthwise block (groups " + groups + ") has no 1x1 branch");
            }
            double[] identity = node.get("scale_identity").isNull() ? null
                    : scales(node, "scale_identity", name, out);
            boolean identityBranch = BlockScales.hasIdentityBranch(in, out, stride);
            if (identity != null && !identityBranch) {
                throw blockProblem(node, name, "scale_identity", "null (no identity branch)", "an array",
                        "scale_identity given, but a block with in_channels=" + in + ", out_channels=" + out
                                + ", stride=" + stride + " has no identity branch (it needs in == out and stride 1)");
            }
            if (identity == null && identityBranch) {
                throw blockProblem(node, name, "scale_identity", out + " values", "null",
                        "scale_identity missing; a block with in == out == " + out
                                + " and stride 1 has an identity branch");
            }
            requireLiveChannels(node, name, conv, oneByOne, identity);
            BlockScales scales;
            try {
                scales = new BlockScales(name, in, out, stride, kernel, groups, conv, oneByOne, identity);
            } catch (IllegalArgumentException e) {
                throw blockProblem(node, name, null, "a valid block", "an invalid one", e.getMessage());
            }
            if (node.has("check_grad_mult_sgd")) {
                verifyCheck(scales, node.get("check_grad_mult_sgd"), name);
            }
            return scales;
        } catch (ScalesFormatException e) {
            throw e;
        } catch (JsonFormatException e) {
            throw new ScalesFormatException(e, name);
        }
    }

    private static int atLeastOne(StrictJson.Node n) {
        int v = n.integer();
        if (v < 1) {
            throw n.fail("an int >= 1");
        }
        return v;
    }

    private static double[] scales(StrictJson.Node block, String field, String name, int outChannels) {
        double[] values = block.get(field).finiteNumbers();
        if (values.length != outChannels) {
            throw blockProblem(block, name, field, outChannels + " values (out_channels)", values.length + " values",
                    field + " has " + values.length + " values, expected " + outChannels + " (out_channels)");
        }
        return values;
    }

    /**
     * Refuses a channel whose every branch scale is 0: its equivalent kernel starts at 0 and its Grad Mult is 0, so
     * it would never train (an all-zero block is the extreme case).
     */
    private static void requireLiveChannels(StrictJson.Node block, String name, double[] conv, double[] oneByOne,
                                            double[] identity) {
        for (int c = 0; c < conv.length; c++) {
            boolean dead = conv[c] == 0 && (oneByOne == null || oneByOne[c] == 0)
                    && (identity == null || identity[c] == 0);
            if (dead) {
                throw blockProblem(block, name, "scale_conv[" + c + "]", "a non-zero scale in some branch",
                        "every branch scale 0", "channel " + c + " has every branch scale 0 (scale_conv, "
                                + (oneByOne == null ? "" : "scale_1x1") + (identity == null ? "" : ", scale_identity")
                                + "): its kernel "
                                + "would start at 0 and get a zero gradient (Grad Mult 0), so it could never train");
            }
        }
    }

    private static ScalesFormatException blockProblem(StrictJson.Node block, String name, String field,
                                                      String expected, String actual, String problem) {
        return new ScalesFormatException(block.source(), name, block.path(), field, expected, actual, problem);
    }

    /**
     * @return what is wrong with the blocks as an architecture (see {@link #ScalesFile}), if anything; {@code nodes}
     * are the blocks' JSON entries, or {@code null} when the blocks were not read from a file
     */
    private static Optional<ScalesFormatException> architectureProblem(String where, int[] numBlocks,
                                                                       List<BlockScales> blocks,
                                                                       List<StrictJson.Node> nodes) {
        if (numBlocks == null) {
            return duplicateName(where, blocks, nodes);
        }
        int expected = 1 + Arrays.stream(numBlocks).sum();
        for (int n : numBlocks) {
            if (n < 0) {
                return Optional.of(new ScalesFormatException(where, null, "", "num_blocks", "entries >= 0",
                        Arrays.toString(numBlocks), "num_blocks " + Arrays.toString(numBlocks)
                        + " has a negative entry"));
            }
        }
        if (blocks.size() != expected) {
            return Optional.of(new ScalesFormatException(where, null, "", "blocks", expected + " blocks",
                    blocks.size() + " blocks", blocks.size() + " blocks, expected " + expected + " (1 stem + "
                    + "num_blocks " + Arrays.toString(numBlocks) + ")"));
        }
        Optional<ScalesFormatException> duplicate = duplicateName(where, blocks, nodes);
        if (duplicate.isPresent()) {
            return duplicate;
        }
        for (int b = 0; b < blocks.size(); b++) {
            BlockScales block = blocks.get(b);
            String path = nodes == null ? "" : nodes.get(b).labelled(block.block()).path();
            if (b > 0 && block.inChannels() != blocks.get(b - 1).outChannels()) {
                BlockScales previous = blocks.get(b - 1);
                return Optional.of(new ScalesFormatException(where, block.block(), path, "in_channels",
                        Integer.toString(previous.outChannels()), Integer.toString(block.inChannels()),
                        "block " + block.block() + " has in_channels " + block.inChannels() + ", expected "
                                + previous.outChannels() + " (out_channels of block " + previous.block() + ")"));
            }
        }
        return Optional.empty();
    }

    private static Optional<ScalesFormatException> duplicateName(String where, List<BlockScales> blocks,
                                                                 List<StrictJson.Node> nodes) {
        Set<String> names = new HashSet<>();
        for (int b = 0; b < blocks.size(); b++) {
            BlockScales block = blocks.get(b);
            if (!names.add(block.block())) {
                String path = nodes == null ? "" : nodes.get(b).labelled(block.block()).path();
                return Optional.of(new ScalesFormatException(where, block.block(), path, "block", "a unique name",
                        block.block() + " again", "block name " + block.block() + " appears twice"));
            }
        }
        return Optional.empty();
    }

    /** The key of the last check figure: the last output channel's centre-ish tap {@code (1, 1)}. */
    private static String lastKey(BlockScales s) {
        return s.depthwise() ? "at_last_0_1_1" : "at_last_last_1_1";
    }

    private static void verifyCheck(BlockScales s, StrictJson.Node check, String name) {
        check.requireKeys(s.depthwise() ? DEPTHWISE_CHECK_KEYS : CHECK_KEYS);
        if (check.has("shape")) {
            StrictJson.Node shapeNode = check.get("shape");
            long[] expected = GradMult.shape(s);
            int[] actual = shapeNode.integers();
            if (!Arrays.equals(Arrays.stream(actual).asLongStream().toArray(), expected)) {
                throw new ScalesFormatException(shapeNode.source(), name, check.path(), "shape",
                        Arrays.toString(expected), Arrays.toString(actual), "check_grad_mult_sgd.shape is "
                        + Arrays.toString(actual) + " but the block's kernel is " + Arrays.toString(expected)
                        + " ([out, in / groups, k, k])");
            }
        }
        int last = s.outChannels() - 1;
        int lastIn = s.inChannelsPerGroup() - 1;
        compare(check, "sum", name, GradMult.sum(s, GradMult.Form.SGD), CHECK_SUM_TOLERANCE);
        compare(check, "at_0_0_1_1", name, GradMult.at(s, GradMult.Form.SGD, 0, 0, 1, 1), CHECK_ENTRY_TOLERANCE);
        compare(check, "at_0_0_0_0", name, GradMult.at(s, GradMult.Form.SGD, 0, 0, 0, 0), CHECK_ENTRY_TOLERANCE);
        compare(check, lastKey(s), name, GradMult.at(s, GradMult.Form.SGD, last, lastIn, 1, 1),
                CHECK_ENTRY_TOLERANCE);
    }

    private static void compare(StrictJson.Node check, String key, String name, double actual,
                                double relTolerance) {
        StrictJson.Node n = check.get(key);
        double expected = n.number();
        if (!(Math.abs(expected - actual) <= relTolerance * Math.max(1.0, Math.abs(expected)))) {
            throw new ScalesFormatException(n.source(), name, check.path(), key, "the figure the scales give, "
                    + actual, Double.toString(expected), "check_grad_mult_sgd." + key + " is " + expected
                    + " but the scales give " + actual + ": the scales are corrupt or belong to another file");
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
        if (numBlocks != null) {
            ArrayNode nb = root.putArray("num_blocks");
            Arrays.stream(numBlocks).forEach(nb::add);
        }
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
            if (s.depthwise() || s.kernel() != BlockScales.DEFAULT_KERNEL) {
                ArrayNode shape = check.putArray("shape");
                Arrays.stream(GradMult.shape(s)).forEach(shape::add);
            }
            check.put("sum", GradMult.sum(s, GradMult.Form.SGD));
            check.put("at_0_0_1_1", GradMult.at(s, GradMult.Form.SGD, 0, 0, 1, 1));
            check.put("at_0_0_0_0", GradMult.at(s, GradMult.Form.SGD, 0, 0, 0, 0));
            check.put(lastKey(s), GradMult.at(s, GradMult.Form.SGD, last, s.inChannelsPerGroup() - 1, 1, 1));
            arr.add(b);
        }
        try {
            return mapper.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize scales of " + model, e);
        }
    }

    private static ObjectMapper mapper() {
        return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    }
}
