package org.repopt.gr;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.repopt.nn.ConvBnReluFusion;
import org.repopt.nn.ParamValues;
import org.repopt.testing.GoldenCase;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The golden trajectories: a plain DL4J network trained with the RepOptimizer follows, parameter by parameter and
 * step by step, the independent float64 reference (which equals the CSLA model trained with SGD), as a
 * {@code ComputationGraph} and as a {@code MultiLayerNetwork}. Runs every case shipped in
 * {@code src/test/resources/golden} and, when {@code -Drepopt.golden.dir=DIR} is set, every case there; a case of a
 * kind or rule this harness does not know fails (never skips).
 */
class GoldenEquivalenceTest {

    private static final double DOUBLE_TOLERANCE = 1e-9;
    private static final double FLOAT_TOLERANCE = 2e-3;

    /** Which DL4J network kind runs the case. */
    enum Net { GRAPH, MULTI_LAYER }

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
        assertTrue(files.size() >= 3, "expected the shipped sgd, adamw and depthwise cases, found " + files);
        return files.stream().flatMap(f -> {
            List<DynamicTest> tests = new ArrayList<>();
            tests.add(DynamicTest.dynamicTest(f.getFileName() + " [grad mult and re-init]", () -> staticParts(f)));
            for (Net net : Net.values()) {
                String kind = net == Net.GRAPH ? "ComputationGraph" : "MultiLayerNetwork";
                tests.add(DynamicTest.dynamicTest(f.getFileName() + " [" + kind + ", double, 1e-9]",
                        () -> run(f, DataType.DOUBLE, net, false)));
                tests.add(DynamicTest.dynamicTest(f.getFileName() + " [" + kind + ", float, 2e-3 relative]",
                        () -> run(f, DataType.FLOAT, net, false)));
            }
            tests.add(DynamicTest.dynamicTest(f.getFileName() + " [float, fused conv-BN-ReLU layers, 2e-3 relative]",
                    () -> run(f, DataType.FLOAT, Net.GRAPH, true)));
            tests.add(DynamicTest.dynamicTest(f.getFileName() + " [double, fused conv-BN-ReLU layers, 1e-9]",
                    () -> run(f, DataType.DOUBLE, Net.GRAPH, true)));
            return tests.stream();
        });
    }

    /** A case of a kind or rule the harness does not know is an error, so a new kind can never pass by skipping. */
    @Test
    void unknownKindsAndRulesFailLoudly(@TempDir Path dir) throws IOException {
        Path kind = Files.writeString(dir.resolve("sgd-grouped-seed1.json"), "{\"kind\": \"grouped\", \"rule\": \"sgd\"}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GoldenCase.read(kind));
        assertTrue(e.getMessage().contains("sgd-grouped-seed1.json: unknown kind 'grouped'"), e.getMessage());
        Path rule = Files.writeString(dir.resolve("lamb.json"), "{\"rule\": \"lamb\", \"blocks\": []}");
        e = assertThrows(IllegalArgumentException.class, () -> GoldenCase.read(rule));
        assertTrue(e.getMessage().contains("lamb.json: unknown rule 'lamb'"), e.getMessage());
    }

    private static List<Path> caseFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".json")).sorted().toList();
        }
    }

    /** The case's Grad Mults and (for SGD cases) its Rule of Initialization, from the scales alone. */
    private static void staticParts(Path file) throws IOException {
        GoldenCase c = GoldenCase.read(file);
        GradMult.Form form = "sgd".equals(c.rule) ? GradMult.Form.SGD : GradMult.Form.ADAMW;
        if (c.kind == GoldenCase.Kind.VGG) {
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
        } else {
            for (GoldenCase.Stage st : c.stages) {
                BlockScales s = st.scales();
                assertArrayEquals(st.gradMult(), ParamValues.of(GradMult.create(s, form, DataType.DOUBLE)), 1e-15,
                        s.block());
                INDArray w = Nd4j.create(st.depthwiseCsla(), GradMult.shape(s), DataType.DOUBLE);
                assertArrayEquals(st.plainInit(), ParamValues.of(Reinit.equivalentKernel(s, w, null)), 1e-15, s.block());
            }
        }
    }

    /**
     * @param fused run the conv-BN-ReLU triples as fused layers ({@link ConvBnReluFusion}): on oneDNN in float, on
     *              DL4J's three layers in double
     */
    private static void run(Path file, DataType type, Net kind, boolean fused) throws IOException {
        GoldenCase c = GoldenCase.read(file);
        Layout layout = c.kind == GoldenCase.Kind.VGG ? vggLayout(c) : depthwiseLayout(c);
        RepOptimizer.Builder opt;
        if ("sgd".equals(c.rule)) {
            opt = RepOptimizer.sgd(c.scales()).learningRate(c.hyper.get("lr").asDouble())
                    .momentum(c.hyper.get("momentum").asDouble()).nesterov(c.hyper.get("nesterov").asBoolean());
        } else {
            opt = RepOptimizer.adamw(c.scales()).learningRate(c.hyper.get("lr").asDouble())
                    .betas(c.hyper.get("beta1").asDouble(), c.hyper.get("beta2").asDouble())
                    .epsilon(c.hyper.get("eps").asDouble());
        }
        // The case starts from its own re-initialized kernels, so the network keeps the weights we load.
        opt = opt.weightDecay(c.hyper.get("weight_decay").asDouble()).mapByName(layout.layerOfBlock).fineTune();
        int h = (int) c.batchShape.get(0)[2];
        int w = (int) c.batchShape.get(0)[3];
        InputType input = InputType.convolutional(h, w, c.batchShape.get(0)[1]);
        Function<String, Layer> layers;
        Consumer<DataSet> fit;
        ComputationGraph graph = null;
        if (kind == Net.GRAPH) {
            graph = opt.applyTo(layout.graph(type, input));
            if (fused) {
                graph = ConvBnReluFusion.fuse(graph);
                assertEquals(layout.fusable, ConvBnReluFusion.fusedLayers(graph.getConfiguration()).size());
            }
            ComputationGraph g = graph;
            layers = name -> g.getConfiguration().getVertices().containsKey(name) ? g.getLayer(name) : null;
            fit = g::fit;
        } else {
            MultiLayerNetwork mln = opt.applyTo(layout.multiLayer(type, input));
            layers = mln::getLayer;
            fit = mln::fit;
        }
        Function<String, Layer> lookup = name -> {
            Layer l = layers.apply(name);
            // a fused layer carries the batch norm of the conv it replaced
            return l != null || !fused ? l : layers.apply(layout.convOfBatchNorm.get(name));
        };
        layout.loadStart.accept(lookup);
        double tol = type == DataType.DOUBLE ? DOUBLE_TOLERANCE : FLOAT_TOLERANCE;
        for (int k = 0; k < c.steps.size(); k++) {
            fit.accept(c.batch(k, type));
            if (fused && k == 0) {
                String engine = ((org.repopt.nn.ConvBnRelu) graph.getLayer(layout.firstConv)).engine();
                boolean oneDnn = type == DataType.FLOAT && org.repopt.backend.OneDnn.available();
                assertEquals(oneDnn, "oneDNN".equals(engine), engine);
            }
            for (Map.Entry<String, double[]> e : c.steps.get(k).entrySet()) {
                double[] actual = layout.param(lookup, e.getKey());
                double[] expected = e.getValue();
                assertEquals(expected.length, actual.length, e.getKey());
                double scale = 1.0;
                double worst = 0;
                for (int i = 0; i < expected.length; i++) {
                    scale = Math.max(scale, Math.abs(expected[i]));
                    worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
                }
                if (worst > tol * scale) {
                    fail(file.getFileName() + " [" + kind + ", " + type + "] step " + k + ", " + e.getKey()
                            + ": max |diff| " + worst + " > " + tol + " * " + scale);
                }
            }
        }
    }

    /** A case's network as named layers, and how its parameters map to the case's names. */
    private static final class Layout {
        /** layer name to a fresh layer configuration of the given data type; in chain order. */
        final Map<String, Function<DataType, org.deeplearning4j.nn.conf.layers.Layer>> layers = new LinkedHashMap<>();
        final Map<String, String> layerOfBlock = new LinkedHashMap<>();
        final Map<String, String> convOfBatchNorm = new LinkedHashMap<>();
        /** case parameter name to layer name and parameter key; kernels of depthwise layers are permuted. */
        final Map<String, String[]> params = new LinkedHashMap<>();
        Consumer<Function<String, Layer>> loadStart;
        int fusable;
        String firstConv;
        long seed;

        ComputationGraphConfiguration graph(DataType type, InputType input) {
            ComputationGraphConfiguration.GraphBuilder g = defaults(type).graphBuilder().addInputs("in");
            String prev = "in";
            for (Map.Entry<String, Function<DataType, org.deeplearning4j.nn.conf.layers.Layer>> e : layers.entrySet()) {
                g.addLayer(e.getKey(), e.getValue().apply(type), prev);
                prev = e.getKey();
            }
            return g.setOutputs(prev).setInputTypes(input).build();
        }

        MultiLayerConfiguration multiLayer(DataType type, InputType input) {
            NeuralNetConfiguration.ListBuilder b = defaults(type).list();
            for (Map.Entry<String, Function<DataType, org.deeplearning4j.nn.conf.layers.Layer>> e : layers.entrySet()) {
                org.deeplearning4j.nn.conf.layers.Layer l = e.getValue().apply(type);
                l.setLayerName(e.getKey());
                b.layer(l);
            }
            return b.setInputType(input).build();
        }

        private NeuralNetConfiguration.Builder defaults(DataType type) {
            return new NeuralNetConfiguration.Builder().seed(seed).dataType(type).updater(new Sgd(0.1))
                    .weightInit(WeightInit.RELU);
        }

        double[] param(Function<String, Layer> lookup, String name) {
            String[] where = params.get(name);
            if (where == null) {
                throw new IllegalArgumentException("unknown parameter " + name);
            }
            INDArray p = lookup.apply(where[0]).getParam(where[1]);
            if (where.length > 2) {
                p = p.permute(2, 3, 0, 1); // DL4J's depthwise [kH, kW, C, 1] as the case's [C, 1, kH, kW]
            } else if (name.equals("lw")) {
                p = p.transpose();
            }
            return p.dup('c').castTo(DataType.DOUBLE).data().asDouble();
        }
    }

    private static ConvolutionLayer conv(int k, int stride, int out) {
        return new ConvolutionLayer.Builder(k, k).stride(stride, stride).padding(k / 2, k / 2)
                .convolutionMode(ConvolutionMode.Truncate).hasBias(false).nOut(out).activation(Activation.IDENTITY)
                .build();
    }

    private static void head(Layout l, GoldenCase c) {
        l.layers.put("gap", t -> new GlobalPoolingLayer.Builder(PoolingType.AVG).build());
        l.layers.put("out", t -> new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(c.classes)
                .activation(Activation.SOFTMAX).build());
        l.params.put("lw", new String[]{"out", "W"});
        l.params.put("lb", new String[]{"out", "b"});
    }

    private static void convBnRelu(Layout l, String conv, String bn, String relu,
                                   Function<DataType, org.deeplearning4j.nn.conf.layers.Layer> layer) {
        l.layers.put(conv, layer);
        l.layers.put(bn, t -> new BatchNormalization.Builder().eps(1e-5).build());
        l.layers.put(relu, t -> new ActivationLayer(Activation.RELU));
        l.convOfBatchNorm.put(bn, conv);
    }

    /** input -> [conv_i(3x3, pad 1, no bias) -> bn_i -> relu_i] -> gap -> out(softmax). */
    private static Layout vggLayout(GoldenCase c) {
        Layout l = new Layout();
        l.seed = 7;
        for (int i = 0; i < c.blocks.size(); i++) {
            BlockScales b = c.blocks.get(i).scales();
            convBnRelu(l, "conv" + i, "bn" + i, "relu" + i, t -> conv(3, b.stride(), b.outChannels()));
            l.layerOfBlock.put(b.block(), "conv" + i);
            l.params.put("w_" + i, new String[]{"conv" + i, "W"});
            l.params.put("g_" + i, new String[]{"bn" + i, "gamma"});
            l.params.put("b_" + i, new String[]{"bn" + i, "beta"});
        }
        head(l, c);
        l.fusable = c.blocks.size();
        l.firstConv = "conv0";
        l.loadStart = lookup -> {
            for (int i = 0; i < c.blocks.size(); i++) {
                BlockScales s = c.blocks.get(i).scales();
                set(lookup, "conv" + i, "W", Nd4j.create(c.blocks.get(i).plainInitKernel(),
                        new long[]{s.outChannels(), s.inChannels(), 3, 3}, DataType.DOUBLE));
            }
            linear(lookup, c);
        };
        return l;
    }

    /** stem conv3x3/s2 -> BN -> relu, [pw_i 1x1 -> BN -> relu -> dw_i 3x3 depthwise -> BN -> relu], gap, out. */
    private static Layout depthwiseLayout(GoldenCase c) {
        Layout l = new Layout();
        l.seed = 5;
        int ch = c.channels;
        convBnRelu(l, "stem", "stem_bn", "stem_relu", t -> conv(3, 2, ch));
        l.params.put("stem", new String[]{"stem", "W"});
        l.params.put("stem_bn_g", new String[]{"stem_bn", "gamma"});
        l.params.put("stem_bn_b", new String[]{"stem_bn", "beta"});
        for (int i = 0; i < c.stages.size(); i++) {
            String pw = "pw" + i;
            String dw = GoldenCase.depthwiseName(i);
            convBnRelu(l, pw, pw + "_bn", pw + "_relu", t -> conv(1, 1, ch));
            convBnRelu(l, dw, dw + "_bn", dw + "_relu", t -> new DepthwiseConvolution2D.Builder(3, 3).stride(1, 1)
                    .padding(1, 1).convolutionMode(ConvolutionMode.Truncate).depthMultiplier(1).hasBias(false)
                    .activation(Activation.IDENTITY).build());
            l.layerOfBlock.put(c.stages.get(i).scales().block(), dw);
            for (String conv : List.of(pw, dw)) {
                l.params.put(conv, conv.equals(dw) ? new String[]{conv, "W", "depthwise"} : new String[]{conv, "W"});
                l.params.put(conv + "_bn_g", new String[]{conv + "_bn", "gamma"});
                l.params.put(conv + "_bn_b", new String[]{conv + "_bn", "beta"});
            }
        }
        head(l, c);
        l.fusable = 1 + c.stages.size(); // the stem and the pointwise convs; depthwise convs stay DL4J layers
        l.firstConv = "stem";
        l.loadStart = lookup -> {
            long in = c.batchShape.get(0)[1];
            set(lookup, "stem", "W", Nd4j.create(c.stem, new long[]{ch, in, 3, 3}, DataType.DOUBLE));
            for (int i = 0; i < c.stages.size(); i++) {
                GoldenCase.Stage st = c.stages.get(i);
                set(lookup, "pw" + i, "W", Nd4j.create(st.pointwise(), new long[]{ch, ch, 1, 1}, DataType.DOUBLE));
                set(lookup, GoldenCase.depthwiseName(i), "W", Nd4j.create(st.plainInit(), new long[]{ch, 1, 3, 3},
                        DataType.DOUBLE).permute(2, 3, 0, 1));
            }
            linear(lookup, c);
        };
        return l;
    }

    private static void linear(Function<String, Layer> lookup, GoldenCase c) {
        set(lookup, "out", "W", Nd4j.create(c.linearWeight, new long[]{c.classes, c.features}, DataType.DOUBLE)
                .transpose());
        set(lookup, "out", "b", Nd4j.create(c.linearBias, new long[]{1, c.classes}, DataType.DOUBLE));
    }

    private static void set(Function<String, Layer> lookup, String layer, String key, INDArray value) {
        INDArray p = lookup.apply(layer).getParam(key);
        if (value.rank() <= 2 && p.rank() <= 2) { // a bias is [1, n] or [n]
            value = value.dup('c').reshape(p.shape());
        }
        assertArrayEquals(p.shape(), value.shape(), layer + "." + key);
        p.assign(value.castTo(p.dataType()));
    }
}
