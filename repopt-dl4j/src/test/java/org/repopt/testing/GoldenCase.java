package org.repopt.testing;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.repopt.gr.BlockScales;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One golden test vector of {@code src/test/resources/golden} (format: its README and each file's {@code about}
 * field). Two kinds: a chain of CSLA blocks (no {@code kind} field, {@link Kind#VGG}) and the depthwise form
 * ({@code "kind": "depthwise"}, {@link Kind#DEPTHWISE}). A case of any other kind or rule is refused when read, so a
 * harness never skips it.
 */
public final class GoldenCase {

    /** The network a case trains. */
    public enum Kind {
        /** {@code relu(bn(conv3x3))} blocks, GAP, linear: every conv re-parameterized. */
        VGG,
        /** Stem conv, then per stage a plain pointwise conv and a re-parameterized depthwise 3x3 conv, GAP, linear. */
        DEPTHWISE
    }

    /** One CSLA block of a {@link Kind#VGG} case. */
    public record Block(BlockScales scales, double[] plainInitKernel, double[] gradMult,
                        double[] cslaKernel3x3, double[] cslaKernel1x1) {
    }

    /**
     * One stage of a {@link Kind#DEPTHWISE} case; kernels flat row-major, pointwise {@code [C,C,1,1]}, depthwise
     * {@code [C,1,3,3]}.
     */
    public record Stage(BlockScales scales, double[] pointwise, double[] depthwiseCsla, double[] plainInit,
                        double[] gradMult) {
    }

    public final String name;
    public final Kind kind;
    public final String rule;
    public final JsonNode hyper;
    /** VGG cases: the blocks in forward order. */
    public final List<Block> blocks = new ArrayList<>();
    /** Depthwise cases: the channels of every conv after the stem. */
    public final int channels;
    /** Depthwise cases: the stem kernel {@code [channels, inputChannels, 3, 3]}. */
    public final double[] stem;
    /** Depthwise cases: the stages in forward order. */
    public final List<Stage> stages = new ArrayList<>();
    public final int classes;
    public final int features;
    /** Linear weight, [classes, features] as in the file. */
    public final double[] linearWeight;
    public final double[] linearBias;
    public final List<double[]> batchX = new ArrayList<>();
    public final List<long[]> batchShape = new ArrayList<>();
    public final List<int[]> batchY = new ArrayList<>();
    /** steps.get(k): parameter name (as the case names it) to values after step k. */
    public final List<Map<String, double[]>> steps = new ArrayList<>();
    public final List<Double> lossPlain = new ArrayList<>();

    private GoldenCase(String name, JsonNode root) {
        this.name = name;
        this.kind = kindOf(name, root);
        this.rule = root.get("rule").asText();
        if (!"sgd".equals(rule) && !("adamw".equals(rule) && kind == Kind.VGG)) {
            throw new IllegalArgumentException(name + ": unknown rule '" + rule + "' for a " + kind
                    + " case (known: sgd, and adamw for the VGG kind)");
        }
        this.hyper = root.get("hyper");
        if (kind == Kind.VGG) {
            JsonNode bs = root.get("blocks");
            for (int i = 0; i < bs.size(); i++) {
                JsonNode b = bs.get(i);
                BlockScales s = new BlockScales("block" + i, b.get("cin").asInt(), b.get("cout").asInt(),
                        b.get("stride").asInt(), doubles(b.get("scale_conv")), doubles(b.get("scale_1x1")),
                        b.get("scale_identity").isNull() ? null : doubles(b.get("scale_identity")));
                blocks.add(new Block(s, doubles(b.get("plain_init_kernel")), doubles(b.get("grad_mult")),
                        b.has("csla_kernel_3x3") ? doubles(b.get("csla_kernel_3x3")) : null,
                        b.has("csla_kernel_1x1") ? doubles(b.get("csla_kernel_1x1")) : null));
            }
            channels = 0;
            stem = null;
        } else {
            channels = root.get("channels").asInt();
            stem = doubles(root.get("stem"));
            JsonNode ss = root.get("stages");
            for (int i = 0; i < ss.size(); i++) {
                JsonNode s = ss.get(i);
                JsonNode sid = s.get("scale_identity");
                BlockScales scales = BlockScales.depthwise(depthwiseName(i), channels, 1, 3, doubles(s.get("scale_conv")),
                        sid == null || sid.isNull() ? null : doubles(sid));
                stages.add(new Stage(scales, doubles(s.get("pointwise")), doubles(s.get("depthwise_csla")),
                        doubles(s.get("plain_init")), doubles(s.get("grad_mult"))));
            }
        }
        JsonNode lin = root.get("linear");
        classes = lin.get("classes").asInt();
        features = lin.get("features").asInt();
        linearWeight = doubles(lin.get("weight"));
        linearBias = doubles(lin.get("bias"));
        for (JsonNode batch : root.get("batches")) {
            JsonNode shape = batch.get("x_shape");
            long[] sh = new long[shape.size()];
            for (int i = 0; i < sh.length; i++) {
                sh[i] = shape.get(i).asLong();
            }
            batchShape.add(sh);
            batchX.add(doubles(batch.get("x")));
            JsonNode y = batch.get("y");
            int[] labels = new int[y.size()];
            for (int i = 0; i < labels.length; i++) {
                labels[i] = y.get(i).asInt();
            }
            batchY.add(labels);
        }
        for (JsonNode step : root.get("steps")) {
            Map<String, double[]> p = new LinkedHashMap<>();
            step.get("params").fields().forEachRemaining(e -> p.put(e.getKey(), doubles(e.getValue())));
            steps.add(p);
            lossPlain.add(step.get("loss_plain").asDouble());
        }
    }

    private static Kind kindOf(String name, JsonNode root) {
        JsonNode k = root.get("kind");
        if (k == null || k.isNull()) {
            if (!root.has("blocks")) {
                throw new IllegalArgumentException(name + ": no \"kind\" and no \"blocks\"; not a golden case this "
                        + "harness knows (kinds: VGG without a kind field, \"depthwise\")");
            }
            return Kind.VGG;
        }
        if ("depthwise".equals(k.asText())) {
            return Kind.DEPTHWISE;
        }
        throw new IllegalArgumentException(name + ": unknown kind '" + k.asText() + "' (known: \"depthwise\", or no "
                + "kind field for a chain of CSLA blocks); teach GoldenEquivalenceTest the new kind");
    }

    /** Reads a case file; refuses an unknown kind or rule. */
    public static GoldenCase read(Path file) throws IOException {
        return new GoldenCase(file.getFileName().toString(), new ObjectMapper().readTree(file.toFile()));
    }

    /** @return the name of depthwise stage {@code i}'s depthwise conv, as the case's parameters name it */
    public static String depthwiseName(int i) {
        return "dw" + i;
    }

    /** @return the re-parameterized blocks' scales in forward order (named {@code block<i>} or {@code dw<i>}) */
    public List<BlockScales> scales() {
        return kind == Kind.VGG ? blocks.stream().map(Block::scales).toList()
                : stages.stream().map(Stage::scales).toList();
    }

    /** @return batch k as a DataSet of the given type, labels one-hot */
    public DataSet batch(int k, DataType type) {
        INDArray x = Nd4j.create(batchX.get(k), batchShape.get(k), DataType.DOUBLE).castTo(type);
        int[] y = batchY.get(k);
        INDArray labels = Nd4j.zeros(type, y.length, classes);
        for (int i = 0; i < y.length; i++) {
            labels.putScalar(i, y[i], 1.0);
        }
        return new DataSet(x, labels);
    }

    private static double[] doubles(JsonNode n) {
        double[] d = new double[n.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = n.get(i).asDouble();
        }
        return d;
    }
}
