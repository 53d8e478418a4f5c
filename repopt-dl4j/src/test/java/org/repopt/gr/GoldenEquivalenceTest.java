package org.repopt.gr;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.repopt.nn.ConvBnReluFusion;
import org.repopt.nn.ParamValues;
import org.repopt.testing.GoldenCase;
import org.repopt.testing.TinyNets;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The golden trajectories: a plain DL4J graph trained with the RepOptimizer follows, parameter by parameter and
 * step by step, the independent float64 reference (which equals the CSLA model trained with SGD). Runs every case
 * shipped in {@code src/test/resources/golden} and, when {@code -Drepopt.golden.dir=DIR} is set, every case there.
 */
class GoldenEquivalenceTest {

    private static final double DOUBLE_TOLERANCE = 1e-9;
    private static final double FLOAT_TOLERANCE = 2e-3;

    @TestFactory
    Stream<DynamicTest> goldenCases() throws IOException, URISyntaxException {
        List<Path> files = new ArrayList<>(caseFiles(Paths.get(GoldenEquivalenceTest.class.getResource("/golden").toURI())));
        String extra = System.getProperty("repopt.golden.dir");
        if (extra != null && !extra.isBlank()) {
            List<Path> more = caseFiles(Paths.get(extra));
            if (more.isEmpty()) {
                fail("-Drepopt.golden.dir=" + extra + " holds no *.json case");
            }
            files.addAll(more);
        }
        assertTrue(files.size() >= 2, "expected the shipped sgd and adamw cases, found " + files);
        return files.stream().flatMap(f -> Stream.of(
                DynamicTest.dynamicTest(f.getFileName() + " [double, 1e-9]", () -> run(f, DataType.DOUBLE, false)),
                DynamicTest.dynamicTest(f.getFileName() + " [float, 2e-3 relative]", () -> run(f, DataType.FLOAT, false)),
                DynamicTest.dynamicTest(f.getFileName() + " [float, fused conv-BN-ReLU layers, 2e-3 relative]",
                        () -> run(f, DataType.FLOAT, true)),
                DynamicTest.dynamicTest(f.getFileName() + " [double, fused conv-BN-ReLU layers, 1e-9]",
                        () -> run(f, DataType.DOUBLE, true)),
                DynamicTest.dynamicTest(f.getFileName() + " [grad mult and re-init]", () -> staticParts(f))));
    }

    private static List<Path> caseFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".json")).sorted().toList();
        }
    }

    /** The case's Grad Mult and (for SGD cases) its Rule of Initialization, from the scales alone. */
    private static void staticParts(Path file) throws IOException {
        GoldenCase c = GoldenCase.read(file);
        GradMult.Form form = "sgd".equals(c.rule) ? GradMult.Form.SGD : GradMult.Form.ADAMW;
        for (GoldenCase.Block b : c.blocks) {
            BlockScales s = b.scales();
            assertArrayEquals(b.gradMult(), ParamValues.of(GradMult.create(s, form, DataType.DOUBLE)), 1e-15, s.block());
            if (b.cslaKernel3x3() != null) {
                long[] shape = {s.outChannels(), s.inChannels(), 3, 3};
                INDArray w3 = Nd4j.create(b.cslaKernel3x3(), shape, DataType.DOUBLE);
                INDArray w1 = Nd4j.create(b.cslaKernel1x1(), new long[]{s.outChannels(), s.inChannels()}, DataType.DOUBLE);
                assertArrayEquals(b.plainInitKernel(), ParamValues.of(Reinit.equivalentKernel(s, w3, w1)), 1e-15);
            }
        }
    }

    /**
     * @param fused run the blocks as fused conv-BN-ReLU layers ({@link ConvBnReluFusion}): on oneDNN in float, on DL4J's
     *              three layers in double
     */
    private static void run(Path file, DataType type, boolean fused) throws IOException {
        GoldenCase c = GoldenCase.read(file);
        int h = (int) c.batchShape.get(0)[2];
        int w = (int) c.batchShape.get(0)[3];
        var conf = TinyNets.plain(c.scales(), c.classes, h, w, type, 7);
        RepOptimizer.Builder opt;
        if ("sgd".equals(c.rule)) {
            opt = RepOptimizer.sgd(c.scales()).learningRate(c.hyper.get("lr").asDouble())
                    .momentum(c.hyper.get("momentum").asDouble()).nesterov(c.hyper.get("nesterov").asBoolean());
        } else if ("adamw".equals(c.rule)) {
            opt = RepOptimizer.adamw(c.scales()).learningRate(c.hyper.get("lr").asDouble())
                    .betas(c.hyper.get("beta1").asDouble(), c.hyper.get("beta2").asDouble())
                    .epsilon(c.hyper.get("eps").asDouble());
        } else {
            throw new IllegalArgumentException(file + ": unknown rule " + c.rule);
        }
        // The case starts from its own re-initialized kernels, so the network keeps the weights we load.
        ComputationGraph net = opt.weightDecay(c.hyper.get("weight_decay").asDouble()).fineTune().applyTo(conf);
        if (fused) {
            net = ConvBnReluFusion.fuse(net);
            assertEquals(c.blocks.size(), ConvBnReluFusion.fusedLayers(net.getConfiguration()).size());
        }
        loadStart(net, c);
        double tol = type == DataType.DOUBLE ? DOUBLE_TOLERANCE : FLOAT_TOLERANCE;
        for (int k = 0; k < c.steps.size(); k++) {
            net.fit(c.batch(k, type));
            if (fused && k == 0) {
                String engine = ((org.repopt.nn.ConvBnRelu) net.getLayer("conv0")).engine();
                boolean oneDnn = type == DataType.FLOAT && org.repopt.backend.OneDnn.available();
                assertEquals(oneDnn, "oneDNN".equals(engine), engine);
            }
            for (Map.Entry<String, double[]> e : c.steps.get(k).entrySet()) {
                double[] actual = param(net, e.getKey(), c);
                double[] expected = e.getValue();
                assertEquals(expected.length, actual.length, e.getKey());
                double scale = 1.0;
                double worst = 0;
                for (int i = 0; i < expected.length; i++) {
                    scale = Math.max(scale, Math.abs(expected[i]));
                    worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
                }
                if (worst > tol * scale) {
                    fail(file.getFileName() + " [" + type + "] step " + k + ", " + e.getKey() + ": max |diff| " + worst
                            + " > " + tol + " * " + scale);
                }
            }
        }
    }

    private static void loadStart(ComputationGraph net, GoldenCase c) {
        for (int i = 0; i < c.blocks.size(); i++) {
            BlockScales s = c.blocks.get(i).scales();
            set(net, "conv" + i, "W", Nd4j.create(c.blocks.get(i).plainInitKernel(),
                    new long[]{s.outChannels(), s.inChannels(), 3, 3}, DataType.DOUBLE));
        }
        set(net, "out", "W", Nd4j.create(c.linearWeight, new long[]{c.classes, c.features}, DataType.DOUBLE).transpose());
        set(net, "out", "b", Nd4j.create(c.linearBias, new long[]{1, c.classes}, DataType.DOUBLE));
    }

    private static void set(ComputationGraph net, String layer, String key, INDArray value) {
        INDArray p = net.getLayer(layer).getParam(key);
        assertEquals(p.length(), value.length(), layer + "." + key);
        p.assign(value.dup('c').reshape(p.shape()).castTo(p.dataType()));
    }

    private static double[] param(ComputationGraph net, String key, GoldenCase c) {
        String[] parts = key.split("_");
        INDArray p;
        switch (parts[0]) {
            case "w": p = net.getLayer("conv" + parts[1]).getParam("W"); break;
            case "g": p = batchNorm(net, parts[1]).getParam("gamma"); break;
            case "b": p = batchNorm(net, parts[1]).getParam("beta"); break;
            case "lw": p = net.getLayer("out").getParam("W").transpose(); break;
            case "lb": p = net.getLayer("out").getParam("b"); break;
            default: throw new IllegalArgumentException("unknown parameter " + key + " in " + c.name);
        }
        return p.dup('c').castTo(DataType.DOUBLE).data().asDouble();
    }

    /** The layer holding block {@code i}'s batch norm: its own, or the fused layer that absorbed it. */
    private static org.deeplearning4j.nn.api.Layer batchNorm(ComputationGraph net, String i) {
        return net.getConfiguration().getVertices().containsKey("bn" + i) ? net.getLayer("bn" + i)
                : net.getLayer("conv" + i);
    }
}
