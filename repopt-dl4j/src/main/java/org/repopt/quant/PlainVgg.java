package org.repopt.quant;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.repopt.nn.ConvolutionKinds;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The structure of a plain VGG graph, found by walking the graph from its input: the deployable form of
 * RepOpt-VGG (and of a fused RepVGG). The accepted chain is
 * <pre>
 *   input -&gt; block+ -&gt; GlobalPoolingLayer(AVG) -&gt; OutputLayer(softmax)
 *   block  = ConvolutionLayer(3x3, ConvolutionMode.Truncate, padding 1, stride 1 or 2, dilation 1, identity,
 *            with or without bias) -&gt; [BatchNormalization(learned gamma, beta)] -&gt; ActivationLayer(ReLU)
 * </pre>
 * Every vertex has exactly one input and one consumer. Layer names are never assumed: they are read from the
 * graph. Anything else is refused with an {@link IllegalArgumentException} naming the offending vertex and what was
 * expected there. An input preprocessor is accepted on the first convolution only (a flat input reshaped to an
 * image); the quantization tools keep it where it is.
 */
public final class PlainVgg {

    /**
     * One block: a 3x3 convolution, an optional batch normalization and a ReLU.
     *
     * @param conv      the convolution layer's name
     * @param batchNorm the batch normalization layer's name, if the block has one
     * @param relu      the ReLU activation layer's name
     */
    public record Block(String conv, Optional<String> batchNorm, String relu) {
    }

    private final String input;
    private final List<Block> blocks;
    private final String pooling;
    private final String output;

    private PlainVgg(String input, List<Block> blocks, String pooling, String output) {
        this.input = input;
        this.blocks = List.copyOf(blocks);
        this.pooling = pooling;
        this.output = output;
    }

    /**
     * @param graph a ComputationGraph
     * @return its plain VGG structure
     * @throws IllegalArgumentException if the graph is not a plain VGG (the message names the vertex)
     */
    public static PlainVgg of(ComputationGraph graph) {
        return of(graph.getConfiguration());
    }

    /**
     * @param conf a ComputationGraph configuration
     * @return its plain VGG structure
     * @throws IllegalArgumentException if the configuration is not a plain VGG (the message names the vertex)
     */
    public static PlainVgg of(ComputationGraphConfiguration conf) {
        List<String> inputs = conf.getNetworkInputs();
        if (inputs.size() != 1) {
            throw new IllegalArgumentException("plain VGG: expected one network input, got " + inputs);
        }
        if (conf.getNetworkOutputs().size() != 1) {
            throw new IllegalArgumentException("plain VGG: expected one network output, got "
                    + conf.getNetworkOutputs());
        }
        Map<String, List<String>> consumers = consumers(conf);
        String in = inputs.get(0);
        List<Block> blocks = new ArrayList<>();
        String prev = in;
        String current = next(conf, consumers, in);
        while (true) {
            Layer l = layer(conf, current, prev);
            if (!(l instanceof ConvolutionLayer)) {
                break;
            }
            checkConv((ConvolutionLayer) l, current, blocks.isEmpty(), conf);
            String conv = current;
            String after = next(conf, consumers, conv);
            Layer a = layer(conf, after, conv);
            Optional<String> bn = Optional.empty();
            if (a instanceof BatchNormalization) {
                checkBatchNorm((BatchNormalization) a, after);
                noPreprocessor(conf, after);
                bn = Optional.of(after);
                String bnName = after;
                after = next(conf, consumers, bnName);
                a = layer(conf, after, bnName);
            }
            if (!isPlainRelu(a)) {
                throw new IllegalArgumentException("plain VGG: layer '" + after + "' (" + describe(a) + ") after '"
                        + bn.orElse(conv) + "': expected " + (bn.isEmpty() ? "BatchNormalization or " : "")
                        + "ActivationLayer(ReLU)");
            }
            noPreprocessor(conf, after);
            blocks.add(new Block(conv, bn, after));
            prev = after;
            current = next(conf, consumers, after);
        }
        if (blocks.isEmpty()) {
            throw new IllegalArgumentException("plain VGG: layer '" + current + "' ("
                    + describe(layer(conf, current, prev)) + ") follows the input '" + in
                    + "': expected a ConvolutionLayer");
        }
        Layer pool = layer(conf, current, prev);
        if (!(pool instanceof GlobalPoolingLayer) || ((GlobalPoolingLayer) pool).getPoolingType() != PoolingType.AVG
                || !((GlobalPoolingLayer) pool).isCollapseDimensions()) {
            throw new IllegalArgumentException("plain VGG: layer '" + current + "' (" + describe(pool) + ") after '"
                    + prev + "': expected a ConvolutionLayer or GlobalPoolingLayer(AVG)");
        }
        noPreprocessor(conf, current);
        String poolName = current;
        String out = next(conf, consumers, poolName);
        Layer o = layer(conf, out, poolName);
        if (o.getClass() != OutputLayer.class || !(((OutputLayer) o).getActivationFn() instanceof ActivationSoftmax)) {
            throw new IllegalArgumentException("plain VGG: layer '" + out + "' (" + describe(o) + ") after '"
                    + poolName + "': expected OutputLayer(softmax)");
        }
        noPreprocessor(conf, out);
        if (!consumers.getOrDefault(out, List.of()).isEmpty() || !conf.getNetworkOutputs().contains(out)) {
            throw new IllegalArgumentException("plain VGG: output layer '" + out + "' must be the network output "
                    + "and feed nothing, but outputs are " + conf.getNetworkOutputs() + " and it feeds "
                    + consumers.getOrDefault(out, List.of()));
        }
        int chain = 2 + blocks.stream().mapToInt(b -> b.batchNorm().isPresent() ? 3 : 2).sum();
        if (conf.getVertices().size() != chain) {
            List<String> extra = new ArrayList<>(conf.getVertices().keySet());
            blocks.forEach(b -> {
                extra.remove(b.conv());
                b.batchNorm().ifPresent(extra::remove);
                extra.remove(b.relu());
            });
            extra.remove(poolName);
            extra.remove(out);
            throw new IllegalArgumentException("plain VGG: vertices " + extra + " are not on the chain from '" + in
                    + "' to '" + out + "'");
        }
        return new PlainVgg(in, blocks, poolName, out);
    }

    private static Map<String, List<String>> consumers(ComputationGraphConfiguration conf) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (Map.Entry<String, List<String>> e : conf.getVertexInputs().entrySet()) {
            if (e.getValue().size() != 1) {
                throw new IllegalArgumentException("plain VGG: vertex '" + e.getKey() + "' has " + e.getValue().size()
                        + " inputs " + e.getValue() + ", expected exactly one (a plain VGG is a chain)");
            }
            out.computeIfAbsent(e.getValue().get(0), k -> new ArrayList<>()).add(e.getKey());
        }
        return out;
    }

    private static String next(ComputationGraphConfiguration conf, Map<String, List<String>> consumers, String name) {
        List<String> c = consumers.getOrDefault(name, List.of());
        if (c.size() != 1) {
            throw new IllegalArgumentException("plain VGG: '" + name + "' feeds " + c.size() + " vertices " + c
                    + ", expected exactly one (a plain VGG is a chain ending in an OutputLayer)");
        }
        return c.get(0);
    }

    private static Layer layer(ComputationGraphConfiguration conf, String name, String after) {
        GraphVertex v = conf.getVertices().get(name);
        if (!(v instanceof LayerVertex)) {
            throw new IllegalArgumentException("plain VGG: vertex '" + name + "' after '" + after + "' is a "
                    + v.getClass().getSimpleName()
                    + ", expected a layer (a plain VGG has no merge, add or other vertex)");
        }
        return ((LayerVertex) v).getLayerConf().getLayer();
    }

    private static void noPreprocessor(ComputationGraphConfiguration conf, String name) {
        LayerVertex v = (LayerVertex) conf.getVertices().get(name);
        if (v.getPreProcessor() != null) {
            throw new IllegalArgumentException("plain VGG: layer '" + name + "' has an input preprocessor "
                    + v.getPreProcessor().getClass().getSimpleName() + "; only the first convolution may have one");
        }
    }

    private static void checkConv(ConvolutionLayer c, String name, boolean first, ComputationGraphConfiguration conf) {
        if (!ConvolutionKinds.isPlain2D(c)) {
            throw new IllegalArgumentException("plain VGG: layer '" + name + "' is a " + c.getClass().getSimpleName()
                    + ", expected a plain 2D ConvolutionLayer");
        }
        if (!first) {
            noPreprocessor(conf, name);
        }
        int[] k = c.getKernelSize();
        int[] s = c.getStride();
        int[] p = c.getPadding();
        int[] d = c.getDilation();
        if (!Arrays.equals(k, new int[]{3, 3})) {
            throw new IllegalArgumentException("plain VGG: conv '" + name + "' has kernel " + Arrays.toString(k)
                    + ", expected [3, 3]");
        }
        if (s[0] != s[1] || (s[0] != 1 && s[0] != 2)) {
            throw new IllegalArgumentException("plain VGG: conv '" + name + "' has stride " + Arrays.toString(s)
                    + ", expected [1, 1] or [2, 2]");
        }
        if (c.getConvolutionMode() != ConvolutionMode.Truncate || !Arrays.equals(p, new int[]{1, 1})) {
            throw new IllegalArgumentException("plain VGG: conv '" + name + "' has convolution mode "
                    + c.getConvolutionMode() + " and padding " + Arrays.toString(p)
                    + ", expected Truncate with padding [1, 1]");
        }
        if (!Arrays.equals(d, new int[]{1, 1})) {
            throw new IllegalArgumentException("plain VGG: conv '" + name + "' has dilation " + Arrays.toString(d)
                    + ", expected [1, 1]");
        }
        if (!isIdentity(c.getActivationFn())) {
            throw new IllegalArgumentException("plain VGG: conv '" + name + "' has activation " + c.getActivationFn()
                    + ", expected identity (the ReLU is its own ActivationLayer)");
        }
    }

    private static void checkBatchNorm(BatchNormalization bn, String name) {
        // DL4J's batch norm never applies its (inherited) activation function, so that field is not checked.
        if (bn.isLockGammaBeta()) {
            throw new IllegalArgumentException("plain VGG: batch norm '" + name + "' has locked gamma/beta, expected "
                    + "learned gamma and beta parameters");
        }
    }

    private static boolean isIdentity(IActivation a) {
        return a == null || a instanceof ActivationIdentity;
    }

    private static boolean isPlainRelu(Layer l) {
        if (!(l instanceof ActivationLayer) || !(((ActivationLayer) l).getActivationFn() instanceof ActivationReLU)) {
            return false;
        }
        ActivationReLU r = (ActivationReLU) ((ActivationLayer) l).getActivationFn();
        return r.getMax() == null && (r.getThreshold() == null || r.getThreshold() == 0.0)
                && (r.getNegativeSlope() == null || r.getNegativeSlope() == 0.0);
    }

    private static String describe(Layer l) {
        if (l instanceof ActivationLayer) {
            return "ActivationLayer(" + ((ActivationLayer) l).getActivationFn() + ")";
        }
        return l.getClass().getSimpleName();
    }

    /** @return the network input's name */
    public String input() {
        return input;
    }

    /** @return the blocks in forward order (at least one) */
    public List<Block> blocks() {
        return blocks;
    }

    /** @return the global average pooling layer's name */
    public String pooling() {
        return pooling;
    }

    /** @return the softmax output layer's name */
    public String output() {
        return output;
    }

    /** @return whether any block still has a batch normalization (that is, the graph is not folded) */
    public boolean hasBatchNorm() {
        return blocks.stream().anyMatch(b -> b.batchNorm().isPresent());
    }

    @Override
    public String toString() {
        return "PlainVgg{input=" + input + ", blocks=" + blocks + ", pooling=" + pooling + ", output=" + output + "}";
    }
}
