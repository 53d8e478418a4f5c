package org.repopt.model;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.repopt.nn.ChannelScaleParamInitializer;

import java.io.IOException;
import java.io.InputStream;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The DL4J network is the reference's: with every parameter set as the reference model's (PyTorch name by
 * PyTorch name, layouts converted), the logits, the loss and every parameter's gradient equal those the reference
 * code's own model computes in float64 ({@code src/test/resources/ghostnet/make_reference_forward.py}, its docstring
 * has the formulas). Covers stem, ghost modules (target and Hyper-Search), stride-2 depthwise convs, SE with its
 * hard-sigmoid gate, both shortcut kinds, the head and the classifier.
 */
class RepOptGhostNetReferenceTest {

    private static final Pattern BOTTLENECK = Pattern.compile("(blocks\\.\\d+\\.\\d+)\\.(.+)\\.(weight|bias)");

    /** How a PyTorch parameter's c-order values lie in DL4J's parameter. */
    private enum Layout { SAME, DEPTHWISE, TRANSPOSED }

    private record Target(String layer, String key, Layout layout) {
    }

    private static Target bn(String layer, String pyKind) {
        return new Target(layer, "weight".equals(pyKind) ? "gamma" : "beta", Layout.SAME);
    }

    private static Target conv(String layer, String pyKind) {
        return new Target(layer, "weight".equals(pyKind) ? "W" : "b", Layout.SAME);
    }

    /** The DL4J parameter of a reference parameter name. */
    private static Target target(String py) {
        String kind = py.substring(py.lastIndexOf('.') + 1);
        String module = py.substring(0, py.lastIndexOf('.'));
        switch (module) {
            case "conv_stem":
                return conv(LayerNames.conv(LayerNames.STEM), kind);
            case "bn1":
                return bn(LayerNames.bn(LayerNames.STEM), kind);
            case "conv_head":
                return conv(LayerNames.HEAD, kind);
            case "classifier":
                return new Target(LayerNames.LINEAR, "weight".equals(kind) ? "W" : "b",
                        "weight".equals(kind) ? Layout.TRANSPOSED : Layout.SAME);
            default:
                break;
        }
        Matcher m = BOTTLENECK.matcher(py);
        assertTrue(m.matches(), "unexpected reference parameter " + py);
        String b = m.group(1);
        String role = m.group(2);
        if (b.equals(GhostNetSpec.FINAL_BLOCK)) {
            return "conv".equals(role) ? conv(LayerNames.conv1x1(b), kind) : bn(LayerNames.bn(b), kind);
        }
        if (role.startsWith("ghost")) {
            String g = b + "." + role.substring(0, role.indexOf('.'));
            switch (role.substring(role.indexOf('.') + 1)) {
                case "primary_conv.0":
                    return conv(LayerNames.primaryConv(g), kind);
                case "primary_conv.1":
                    return bn(LayerNames.primaryBn(g), kind);
                case "cheap_operation.0":
                    return new Target(LayerNames.cheapConv(g), "W", Layout.DEPTHWISE);
                case "cheap_operation.1":
                    return new Target(LayerNames.scaleConv(g), ChannelScaleParamInitializer.SCALE_KEY, Layout.SAME);
                case "fusion_scale":
                    return new Target(LayerNames.scaleIdentity(g), ChannelScaleParamInitializer.SCALE_KEY, Layout.SAME);
                case "final_bn":
                    return bn(LayerNames.bn(g), kind);
                default:
                    throw new AssertionError("unexpected reference parameter " + py);
            }
        }
        switch (role) {
            case "conv_dw":
                return new Target(LayerNames.depthwise(b), "W", Layout.DEPTHWISE);
            case "bn_dw":
                return bn(LayerNames.depthwiseBn(b), kind);
            case "se.conv_reduce":
                return conv(LayerNames.seReduce(b), kind);
            case "se.conv_expand":
                return conv(LayerNames.seExpand(b), kind);
            case "shortcut.0":
                return new Target(LayerNames.shortcutDepthwise(b), "W", Layout.DEPTHWISE);
            case "shortcut.1":
                return bn(LayerNames.shortcutDepthwiseBn(b), kind);
            case "shortcut.2":
                return conv(LayerNames.shortcutConv(b), kind);
            case "shortcut.3":
                return bn(LayerNames.shortcutBn(b), kind);
            default:
                throw new AssertionError("unexpected reference parameter " + py);
        }
    }

    /** A reference-layout array as the DL4J parameter's layout (and back: both permutations are involutions). */
    private static INDArray convert(INDArray a, Layout layout) {
        switch (layout) {
            case DEPTHWISE:
                return a.permute(2, 3, 0, 1); // [C,1,kH,kW] <-> DL4J's [kH,kW,C,1]
            case TRANSPOSED:
                return a.transpose();
            default:
                return a;
        }
    }

    private static INDArray sinusoid(long n, double offset, double amplitude, double phase, double step) {
        INDArray k = Nd4j.arange(0, n).castTo(DataType.DOUBLE);
        return org.nd4j.linalg.ops.transforms.Transforms.sin(k.muli(step).addi(phase), false).muli(amplitude)
                .addi(offset);
    }

    private static long[] shape(JsonNode node) {
        long[] s = new long[node.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = node.get(i).asLong();
        }
        return s;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"reference-target-w0.25.json", "reference-hs-w0.25.json"})
    void forwardLossAndGradientsEqualTheReferenceModel(String file) throws IOException {
        JsonNode doc;
        try (InputStream in = getClass().getResourceAsStream("/ghostnet/" + file)) {
            doc = new ObjectMapper().readTree(in);
        }
        long[] inShape = shape(doc.get("input"));
        int classes = doc.get("classes").asInt();
        GhostNetSpec spec = GhostNetSpec.of(doc.get("width").asDouble())
                .withInput((int) inShape[1], (int) inShape[2], (int) inShape[3]).withClasses(classes).withDropout(0);
        RepOptGhostNet.Builder builder = RepOptGhostNet.builder(spec).dataType(DataType.DOUBLE);
        if ("hs".equals(doc.get("mode").asText())) {
            builder.search();
        }
        ComputationGraph net = builder.build().init();

        JsonNode params = doc.get("params");
        Set<String> assigned = new HashSet<>();
        long assignedCount = 0;
        for (int j = 0; j < params.size(); j++) {
            JsonNode p = params.get(j);
            Target t = target(p.get("name").asText());
            long[] s = shape(p.get("shape"));
            INDArray values = sinusoid(java.util.Arrays.stream(s).reduce(1, (a, b) -> a * b),
                    p.get("offset").asDouble(), p.get("amplitude").asDouble(), 1.3 * j + 0.1, 0.7).reshape('c', s);
            INDArray param = net.getLayer(t.layer()).getParam(t.key());
            INDArray converted = convert(values, t.layout());
            assertEquals(param.length(), converted.length(), p.get("name").asText() + " -> " + t);
            param.assign(converted.reshape(param.shape()));
            assertTrue(assigned.add(t.layer() + "/" + t.key()), "assigned twice: " + t);
            assignedCount += param.length();
        }
        long bnStatistics = 0;
        for (org.deeplearning4j.nn.api.Layer l : net.getLayers()) {
            if (l.conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.BatchNormalization) {
                bnStatistics += l.numParams() - l.getParam("gamma").length() - l.getParam("beta").length();
            }
        }
        assertEquals(net.numParams(), assignedCount + bnStatistics, "every trainable DL4J parameter has a reference one");

        int n = (int) inShape[0];
        INDArray x = sinusoid(n * inShape[1] * inShape[2] * inShape[3], 0, 1.5, 0.5, 0.9).reshape('c', inShape);
        INDArray labels = Nd4j.zeros(DataType.DOUBLE, n, classes);
        JsonNode y = doc.get("labels");
        for (int i = 0; i < n; i++) {
            labels.putScalar(i, y.get(i).asInt(), 1.0);
        }

        INDArray probs = net.output(true, x)[0];
        JsonNode logits = doc.get("logits");
        for (int i = 0; i < n; i++) {
            double[] z = new double[classes];
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                z[c] = logits.get(i).get(c).asDouble();
                max = Math.max(max, z[c]);
            }
            double sum = 0;
            for (int c = 0; c < classes; c++) {
                sum += Math.exp(z[c] - max);
            }
            for (int c = 0; c < classes; c++) {
                double expected = Math.exp(z[c] - max) / sum;
                assertEquals(expected, probs.getDouble(i, c), 1e-12, file + ": probability [" + i + "," + c + "]");
            }
        }

        net.setInputs(x);
        net.setLabels(labels);
        net.computeGradientAndScore();
        assertEquals(doc.get("loss").asDouble() / n, net.score(), 1e-12, file + ": mean loss");
        double largest = 0;
        for (JsonNode p : params) {
            largest = Math.max(largest, Math.abs(p.get("grad_probe").asDouble()));
        }
        for (JsonNode p : params) {
            Target t = target(p.get("name").asText());
            INDArray grad = net.gradient().getGradientFor(t.layer() + "_" + t.key());
            INDArray ref = convert(grad.reshape(convertedShape(shape(p.get("shape")), t.layout())), t.layout())
                    .dup('c').reshape(-1);
            double probe = ref.mul(org.nd4j.linalg.ops.transforms.Transforms.cos(
                    Nd4j.arange(0, ref.length()).castTo(DataType.DOUBLE).muli(0.37), false)).sumNumber().doubleValue();
            double expected = p.get("grad_probe").asDouble();
            // DL4J's gradient is the batch sum, as the reference's summed loss
            assertEquals(expected, probe, 1e-9 * largest, file + ": gradient of " + p.get("name").asText());
        }
    }

    /** The DL4J shape of a parameter whose reference shape is {@code s}. */
    private static long[] convertedShape(long[] s, Layout layout) {
        switch (layout) {
            case DEPTHWISE:
                return new long[]{s[2], s[3], s[0], s[1]};
            case TRANSPOSED:
                return new long[]{s[1], s[0]};
            default:
                return s;
        }
    }
}
