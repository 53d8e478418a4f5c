package org.repopt.nn;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.repopt.backend.OneDnnHelpers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Turns the {@code conv -> BatchNormalization -> ReLU} triples of a DL4J graph into {@link ConvBnReluLayer}s and
 * back. The fused layer takes the convolution's name (so mappings by conv name, such as the RepOptimizer's, still
 * hold), the convolution's updater and regularization, and the batch norm's settings; the batch-norm and ReLU names
 * are kept in the fused layer, so {@link #unfuse} restores the original graph's vertex names.
 *
 * <p>A triple is fused when: the conv is a plain 2D {@link ConvolutionLayer} ({@link ConvolutionKinds}) without
 * bias, with identity activation, dilation 1 and NCHW data; its only consumer is a {@link BatchNormalization}
 * (NCHW, trainable gamma/beta, minibatch statistics, the same updater as the conv, no gradient normalization other
 * than the conv's) whose only consumer is an {@link ActivationLayer} with ReLU; neither the batch norm nor the ReLU
 * is a network output, has an input preprocessor, dropout or constraints. Anything else is left as it is, and
 * {@link #candidates} says why.
 */
public final class ConvBnReluFusion {

    private static final Logger LOG = LoggerFactory.getLogger(ConvBnReluFusion.class);

    private ConvBnReluFusion() {
    }

    /**
     * What fusing a configuration would do, for every conv followed by a batch norm.
     *
     * @param conf a graph configuration
     * @return conv layer name to {@code null} (fused) or the reason it stays three layers, in vertex order
     */
    public static Map<String, String> candidates(ComputationGraphConfiguration conf) {
        Map<String, String> out = new LinkedHashMap<>();
        Map<String, List<String>> consumers = consumers(conf);
        for (String name : conf.getVertices().keySet()) {
            org.deeplearning4j.nn.conf.layers.Layer l = layerOf(conf, name);
            if (!(l instanceof ConvolutionLayer) || l instanceof ConvBnReluLayer) {
                continue;
            }
            List<String> next = consumers.getOrDefault(name, List.of());
            if (next.size() == 1 && layerOf(conf, next.get(0)) instanceof BatchNormalization) {
                out.put(name, whyNot(conf, name, consumers));
            }
        }
        return out;
    }

    /**
     * @param conf a graph configuration (not changed)
     * @return a copy in which every fusable triple is one {@link ConvBnReluLayer}; {@code conf} itself when none is
     */
    public static ComputationGraphConfiguration fuse(ComputationGraphConfiguration conf) {
        Map<String, String> found = candidates(conf);
        found.forEach((conv, why) -> {
            if (why != null) {
                LOG.info("conv '{}' stays a separate conv, batch norm and ReLU: {}", conv, why);
            }
        });
        if (!found.containsValue(null)) {
            return conf;
        }
        ComputationGraphConfiguration out = copy(conf);
        Map<String, List<String>> consumers = consumers(conf);
        for (Map.Entry<String, String> e : found.entrySet()) {
            if (e.getValue() == null) {
                fuseTriple(out, e.getKey(), consumers);
            }
        }
        return out;
    }

    /**
     * @param conf a graph configuration (not changed)
     * @return a copy in which every {@link ConvBnReluLayer} is a convolution, a batch norm and a ReLU again, under
     * their original names; {@code conf} itself when it has none
     */
    public static ComputationGraphConfiguration unfuse(ComputationGraphConfiguration conf) {
        List<String> fused = fusedLayers(conf);
        if (fused.isEmpty()) {
            return conf;
        }
        ComputationGraphConfiguration out = copy(conf);
        Map<String, GraphVertex> vertices = new LinkedHashMap<>();
        Map<String, List<String>> inputs = new LinkedHashMap<>();
        for (Map.Entry<String, GraphVertex> e : out.getVertices().entrySet()) {
            String name = e.getKey();
            vertices.put(name, e.getValue());
            inputs.put(name, out.getVertexInputs().get(name));
            if (!fused.contains(name)) {
                continue;
            }
            LayerVertex v = (LayerVertex) e.getValue();
            ConvBnReluLayer f = (ConvBnReluLayer) v.getLayerConf().getLayer();
            String bn = f.getBatchNormName();
            String relu = f.getReluName();
            for (String taken : List.of(bn, relu)) {
                if (out.getVertices().containsKey(taken) || out.getNetworkInputs().contains(taken)) {
                    throw new IllegalArgumentException("cannot split layer '" + name + "': the graph already has a "
                            + "vertex named '" + taken + "'");
                }
            }
            // The parts follow the convolution in vertex order, as a built graph lists them.
            vertices.put(name, new LayerVertex(layerConf(v.getLayerConf(), f.toConvolution()), v.getPreProcessor()));
            vertices.put(bn, new LayerVertex(layerConf(v.getLayerConf(), f.toBatchNormalization()), null));
            inputs.put(bn, new ArrayList<>(List.of(name)));
            ActivationLayer act = new ActivationLayer.Builder().activation(Activation.RELU).build();
            act.setLayerName(relu);
            vertices.put(relu, new LayerVertex(layerConf(v.getLayerConf(), act), null));
            inputs.put(relu, new ArrayList<>(List.of(bn)));
        }
        out.setVertices(vertices);
        out.setVertexInputs(inputs);
        for (String name : fused) {
            ConvBnReluLayer f = (ConvBnReluLayer) ((LayerVertex) conf.getVertices().get(name)).getLayerConf().getLayer();
            for (Map.Entry<String, List<String>> e : inputs.entrySet()) {
                if (!e.getKey().equals(f.getBatchNormName())) {
                    e.getValue().replaceAll(in -> in.equals(name) ? f.getReluName() : in);
                }
            }
            out.getNetworkOutputs().replaceAll(o -> o.equals(name) ? f.getReluName() : o);
        }
        return out;
    }

    /**
     * @param net a network (not changed)
     * @return a new network of the {@link #fuse(ComputationGraphConfiguration) fused} configuration with
     * {@code net}'s parameters, iteration and epoch counts, listeners and (where the parameter order is unchanged,
     * as in a chain of blocks) updater state; {@code net} itself when nothing is fusable
     */
    public static ComputationGraph fuse(ComputationGraph net) {
        ComputationGraphConfiguration conf = fuse(net.getConfiguration());
        return conf == net.getConfiguration() ? net : rebuilt(net, conf);
    }

    /**
     * @param net a network (not changed)
     * @return a new network of the {@link #unfuse(ComputationGraphConfiguration) split} configuration with
     * {@code net}'s parameters (and updater state, as for {@link #fuse(ComputationGraph)}); {@code net} itself when
     * it has no fused layer
     */
    public static ComputationGraph unfuse(ComputationGraph net) {
        ComputationGraphConfiguration conf = unfuse(net.getConfiguration());
        return conf == net.getConfiguration() ? net : rebuilt(net, conf);
    }

    /** @return the names of the {@link ConvBnReluLayer}s of a configuration, in vertex order */
    public static List<String> fusedLayers(ComputationGraphConfiguration conf) {
        List<String> out = new ArrayList<>();
        for (String name : conf.getVertices().keySet()) {
            if (layerOf(conf, name) instanceof ConvBnReluLayer) {
                out.add(name);
            }
        }
        return out;
    }

    private static String whyNot(ComputationGraphConfiguration conf, String convName,
                                 Map<String, List<String>> consumers) {
        ConvolutionLayer conv = (ConvolutionLayer) layerOf(conf, convName);
        if (!ConvolutionKinds.isPlain2D(conv)) {
            return "not a plain 2D convolution (" + conv.getClass().getSimpleName() + ")";
        }
        if (conv.hasBias()) {
            return "the convolution has a bias";
        }
        if (!(conv.getActivationFn() == null || conv.getActivationFn() instanceof ActivationIdentity)) {
            return "the convolution has activation " + conv.getActivationFn();
        }
        if (conv.getDilation()[0] != 1 || conv.getDilation()[1] != 1) {
            return "dilation " + java.util.Arrays.toString(conv.getDilation());
        }
        if (conv.getCnn2dDataFormat() != CNN2DFormat.NCHW) {
            return "data format " + conv.getCnn2dDataFormat();
        }
        String bnName = consumers.get(convName).get(0);
        BatchNormalization bn = (BatchNormalization) layerOf(conf, bnName);
        List<String> afterBn = consumers.getOrDefault(bnName, List.of());
        if (afterBn.size() != 1 || !isRelu(layerOf(conf, afterBn.get(0)))) {
            return "batch norm '" + bnName + "' does not feed exactly one ReLU ActivationLayer (it feeds " + afterBn + ")";
        }
        String reluName = afterBn.get(0);
        if (bn.isLockGammaBeta() || !bn.isMinibatch() || bn.getCnn2DFormat() != CNN2DFormat.NCHW) {
            return "batch norm '" + bnName + "' has locked gamma/beta, no minibatch statistics or NHWC data";
        }
        if (!Objects.equals(bn.getIUpdater(), conv.getIUpdater())) {
            return "batch norm '" + bnName + "' and the convolution have different updaters";
        }
        GradientNormalization gn = bn.getGradientNormalization();
        if (gn != null && gn != GradientNormalization.None && gn != conv.getGradientNormalization()) {
            return "batch norm '" + bnName + "' has its own gradient normalization " + gn;
        }
        for (String part : List.of(convName, bnName)) {
            if (conf.getNetworkOutputs().contains(part)) {
                return "'" + part + "' is a network output";
            }
        }
        for (String part : List.of(bnName, reluName)) {
            LayerVertex v = (LayerVertex) conf.getVertices().get(part);
            org.deeplearning4j.nn.conf.layers.Layer l = v.getLayerConf().getLayer();
            if (v.getPreProcessor() != null || l.getIDropout() != null
                    || (l.getConstraints() != null && !l.getConstraints().isEmpty())) {
                return "'" + part + "' has an input preprocessor, dropout or constraints";
            }
        }
        if (conv.getWeightNoise() != null) {
            return "the convolution has weight noise";
        }
        return null;
    }

    private static boolean isRelu(org.deeplearning4j.nn.conf.layers.Layer l) {
        return l instanceof ActivationLayer && ((ActivationLayer) l).getActivationFn() instanceof ActivationReLU;
    }

    private static void fuseTriple(ComputationGraphConfiguration out, String convName,
                                   Map<String, List<String>> consumers) {
        LayerVertex cv = (LayerVertex) out.getVertices().get(convName);
        ConvolutionLayer conv = (ConvolutionLayer) cv.getLayerConf().getLayer();
        String bnName = consumers.get(convName).get(0);
        String reluName = consumers.get(bnName).get(0);
        BatchNormalization bn = (BatchNormalization) layerOf(out, bnName);
        List<String> inputs = out.getVertexInputs().get(convName);
        // A layer fed by a network input has no use for its input gradient (the stem).
        boolean inputGradient = !(inputs.size() == 1 && out.getNetworkInputs().contains(inputs.get(0)));
        ConvBnReluLayer.Builder b = new ConvBnReluLayer.Builder(conv.getKernelSize()).eps(bn.getEps())
                .decay(bn.getDecay()).useLogStd(bn.isUseLogStd()).inputGradient(inputGradient)
                .partNames(bnName, reluName);
        b.stride(conv.getStride()).padding(conv.getPadding()).convolutionMode(conv.getConvolutionMode())
                .nIn(conv.getNIn()).nOut(conv.getNOut()).cudnnAllowFallback(conv.isCudnnAllowFallback());
        ConvBnReluLayer f = b.build();
        f.setLayerName(convName);
        f.setWeightInitFn(conv.getWeightInitFn());
        f.setBiasInit(conv.getBiasInit());
        f.setGainInit(conv.getGainInit());
        f.setCudnnAlgoMode(conv.getCudnnAlgoMode());
        f.setIUpdater(conv.getIUpdater());
        f.setBiasUpdater(conv.getBiasUpdater());
        f.setRegularization(conv.getRegularization() == null ? null : new ArrayList<>(conv.getRegularization()));
        f.setRegularizationBias(conv.getRegularizationBias() == null ? null
                : new ArrayList<>(conv.getRegularizationBias()));
        f.setGradientNormalization(conv.getGradientNormalization());
        f.setGradientNormalizationThreshold(conv.getGradientNormalizationThreshold());
        f.setIDropout(conv.getIDropout());
        f.setConstraints(conv.getConstraints());
        out.getVertices().put(convName, new LayerVertex(layerConf(cv.getLayerConf(), f), cv.getPreProcessor()));
        out.getVertices().remove(bnName);
        out.getVertices().remove(reluName);
        out.getVertexInputs().remove(bnName);
        out.getVertexInputs().remove(reluName);
        rename(out, reluName, convName);
    }

    /** Points every input and network output that names {@code from} at {@code to}. */
    private static void rename(ComputationGraphConfiguration conf, String from, String to) {
        for (List<String> in : conf.getVertexInputs().values()) {
            in.replaceAll(s -> s.equals(from) ? to : s);
        }
        conf.getNetworkOutputs().replaceAll(s -> s.equals(from) ? to : s);
    }

    private static NeuralNetConfiguration layerConf(NeuralNetConfiguration template,
                                                    org.deeplearning4j.nn.conf.layers.Layer layer) {
        NeuralNetConfiguration c = template.clone();
        c.clearVariables();
        c.setLayer(layer);
        return c;
    }

    /**
     * DL4J's {@code clone()} without the cached topological order (an edited graph needs a new one) and with the
     * iteration and epoch counts ({@code clone()} drops them; schedules and resumed runs depend on them).
     */
    private static ComputationGraphConfiguration copy(ComputationGraphConfiguration conf) {
        ComputationGraphConfiguration out = conf.clone();
        out.setTopologicalOrder(null);
        out.setTopologicalOrderStr(null);
        out.setIterationCount(conf.getIterationCount());
        out.setEpochCount(conf.getEpochCount());
        return out;
    }

    private static Map<String, List<String>> consumers(ComputationGraphConfiguration conf) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (Map.Entry<String, List<String>> e : conf.getVertexInputs().entrySet()) {
            for (String in : e.getValue()) {
                out.computeIfAbsent(in, k -> new ArrayList<>()).add(e.getKey());
            }
        }
        return out;
    }

    private static org.deeplearning4j.nn.conf.layers.Layer layerOf(ComputationGraphConfiguration conf, String vertex) {
        GraphVertex v = conf.getVertices().get(vertex);
        return v instanceof LayerVertex ? ((LayerVertex) v).getLayerConf().getLayer() : null;
    }

    /** A network of {@code conf} carrying over {@code from}'s state; parameters are matched by layer and key. */
    private static ComputationGraph rebuilt(ComputationGraph from, ComputationGraphConfiguration conf) {
        OneDnnHelpers.enable();
        ComputationGraph to = new ComputationGraph(conf);
        // Both forms have the same parameters: a zero array of that size, filled below, spares the random draws of a
        // fresh init (and leaves ND4J's global generator as the caller left it).
        to.init(Nd4j.create(from.params().dataType(), 1, from.numParams()), false);
        List<INDArray[]> pairs = new ArrayList<>();
        for (Layer l : to.getLayers()) {
            String name = l.conf().getLayer().getLayerName();
            for (Map.Entry<String, INDArray> p : l.paramTable().entrySet()) {
                INDArray src = source(from, l, name, p.getKey());
                if (src == null || src.length() != p.getValue().length()) {
                    throw new IllegalStateException("layer '" + name + "', parameter " + p.getKey()
                            + ": no matching parameter in the source network");
                }
                pairs.add(new INDArray[]{src, p.getValue()});
            }
        }
        pairs.forEach(p -> p[1].assign(p[0].reshape(p[1].shape())));
        to.setListeners(from.getListeners());
        copyUpdaterState(from, to, pairs);
        return to;
    }

    /** The parameter of {@code from} that layer {@code name}'s parameter {@code key} of the new network continues. */
    private static INDArray source(ComputationGraph from, Layer target, String name, String key) {
        if (target.conf().getLayer() instanceof ConvBnReluLayer) {
            ConvBnReluLayer f = (ConvBnReluLayer) target.conf().getLayer();
            Layer src = layer(from, ConvBnReluLayer.WEIGHT_KEY.equals(key) ? name : f.getBatchNormName());
            return src == null ? null : src.getParam(key);
        }
        Layer src = layer(from, name);
        if (src != null) {
            // Also the convolution split out of a fused layer: it kept the fused layer's name and kernel.
            return src.getParam(key);
        }
        // A batch norm split out of a fused layer: its parameters live in the fused layer.
        for (Layer l : from.getLayers()) {
            if (l.conf().getLayer() instanceof ConvBnReluLayer
                    && ((ConvBnReluLayer) l.conf().getLayer()).getBatchNormName().equals(name)) {
                return l.getParam(key);
            }
        }
        return null;
    }

    private static Layer layer(ComputationGraph net, String name) {
        return net.getConfiguration().getVertices().get(name) instanceof LayerVertex ? net.getLayer(name) : null;
    }

    /**
     * Copies the updater state when both networks flatten the same parameters in the same order (each updater block
     * then covers the same values); otherwise the new network starts with a fresh updater, and says so.
     */
    private static void copyUpdaterState(ComputationGraph from, ComputationGraph to, List<INDArray[]> pairs) {
        if (from.getUpdater(false) == null || from.getUpdater(false).getStateViewArray() == null) {
            return;
        }
        INDArray fromState = from.getUpdater(false).getStateViewArray();
        long offsetTo = 0;
        long offsetFrom = 0;
        boolean sameOrder = true;
        INDArray fromFlat = from.params();
        INDArray toFlat = to.params();
        for (INDArray[] p : pairs) {
            long fromAt = offsetIn(fromFlat, p[0]);
            long toAt = offsetIn(toFlat, p[1]);
            if (fromAt - offsetFrom != 0 || toAt - offsetTo != 0) {
                sameOrder = false;
                break;
            }
            offsetFrom += p[0].length();
            offsetTo += p[1].length();
        }
        INDArray toState = sameOrder ? to.getUpdater().getStateViewArray() : null;
        if (toState != null && toState.length() == fromState.length()) {
            toState.assign(fromState);
        } else {
            LOG.warn("the rebuilt network starts with a fresh updater state: its parameters are flattened in another "
                    + "order than the source network's");
        }
    }

    /** @return the element offset of a parameter view inside a network's flattened parameters */
    private static long offsetIn(INDArray flat, INDArray view) {
        return (view.data().addressPointer().address() - flat.data().addressPointer().address())
                / flat.data().getElementSize();
    }
}
