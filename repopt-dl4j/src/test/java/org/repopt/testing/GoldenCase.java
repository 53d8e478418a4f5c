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

/** One golden test vector of {@code shared/golden} (format: its {@code about} field). */
public final class GoldenCase {

    /** One CSLA block of the case. */
    public record Block(BlockScales scales, double[] plainInitKernel, double[] gradMult,
                        double[] cslaKernel3x3, double[] cslaKernel1x1) {
    }

    public final String name;
    public final String rule;
    public final JsonNode hyper;
    public final List<Block> blocks = new ArrayList<>();
    public final int classes;
    public final int features;
    /** Linear weight, [classes, features] as in the file. */
    public final double[] linearWeight;
    public final double[] linearBias;
    public final List<double[]> batchX = new ArrayList<>();
    public final List<long[]> batchShape = new ArrayList<>();
    public final List<int[]> batchY = new ArrayList<>();
    /** steps.get(k): parameter name (w_i, g_i, b_i, lw, lb) to values after step k. */
    public final List<Map<String, double[]>> steps = new ArrayList<>();
    public final List<Double> lossPlain = new ArrayList<>();

    private GoldenCase(String name, JsonNode root) {
        this.name = name;
        this.rule = root.get("rule").asText();
        this.hyper = root.get("hyper");
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

    /** Reads a case file. */
    public static GoldenCase read(Path file) throws IOException {
        return new GoldenCase(file.getFileName().toString(), new ObjectMapper().readTree(file.toFile()));
    }

    /** @return the case's block scales in forward order */
    public List<BlockScales> scales() {
        return blocks.stream().map(Block::scales).toList();
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
