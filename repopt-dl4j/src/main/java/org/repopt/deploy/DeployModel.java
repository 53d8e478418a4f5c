package org.repopt.deploy;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.Upsampling2D;
import org.deeplearning4j.nn.conf.weightnoise.IWeightNoise;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.params.DepthwiseConvolutionParamInitializer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.shade.jackson.core.JsonProcessingException;
import org.repopt.backend.OneDnnHelpers;
import org.repopt.io.AtomicFiles;
import org.repopt.model.BatchNormAffine;
import org.repopt.nn.ActivationTorchHardSigmoid;
import org.repopt.nn.ChannelMultiplyVertex;
import org.repopt.nn.ConvBnReluFusion;
import org.repopt.nn.ConvolutionKinds;
import org.repopt.nn.ParamValues;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The deployable form of a trained network: a ComputationGraph made of stock DL4J classes only, which an application
 * with {@code deeplearning4j-nn} on its class path (and not repopt-dl4j) loads with
 * {@code ModelSerializer.restoreComputationGraph}. See docs/METHOD.md ("Deployment").
 *
 * <p>What changes, each exact up to float rounding in inference mode:
 * <ul>
 *   <li>fused conv-BN-ReLU layers are split into DL4J's three layers ({@link ConvBnReluFusion#unfuse});</li>
 *   <li>every batch normalization whose only input is a 2D or depthwise convolution (with an identity activation,
 *       feeding nothing else) is folded into that convolution's kernel and bias: per output channel {@code o},
 *       {@code W'[o] = W[o] * k[o]}, {@code b'[o] = shift[o] + b[o] * k[o]} with {@link BatchNormAffine}'s
 *       {@code k = gamma / sqrt(var + eps)}; other batch norms stay as DL4J's {@code BatchNormalization};</li>
 *   <li>convolutions become DL4J's {@code ConvolutionLayer} / {@code DepthwiseConvolution2D} (not the engine-selecting
 *       or fused subclasses);</li>
 *   <li>a convolution with PyTorch's hard sigmoid {@code relu6(x + 3) / 6} ({@link ActivationTorchHardSigmoid}) gets
 *       DL4J's {@code HARDSIGMOID}, {@code clamp(0.2 x + 0.5, 0, 1)}, on a kernel and bias scaled by 5/6: since
 *       {@code 0.2 * (5/6) z + 0.5 = z / 6 + 0.5 = (z + 3) / 6}, both clamp to [0, 1] at the same points;</li>
 *   <li>a squeeze-and-excitation gate ({@link ChannelMultiplyVertex}) becomes DL4J's {@code Upsampling2D} of the 1x1
 *       gate to the feature map's size (nearest: a copy per pixel) and {@code ElementWiseVertex(Product)};</li>
 *   <li>no training state: updater {@code NoOp}, no regularization (so no Grad Mult hook), no dropout, weight noise,
 *       constraints or gradient normalization; a custom weight initializer becomes {@code ZERO} (the parameters are
 *       the model's, not initialized); a custom loss of a softmax output becomes {@code MCXENT}.</li>
 * </ul>
 * Anything else not from DL4J or ND4J is refused with an {@link UnsupportedLayerException} naming the layer. Layer
 * names are kept (a folded batch norm's name disappears; its consumers read the convolution), so a caller's
 * {@code output}/{@code feedForward} by name works on both graphs. RepVGG is fused first by its own
 * {@code RepVgg.deploy}; a Hyper-Search model is a search device, not a deploy model, and is refused (its
 * {@code ChannelScale} layers).
 */
public final class DeployModel {

    /** The package prefixes whose classes a plain DL4J application has. */
    private static final List<String> STOCK_PACKAGES = List.of("org.deeplearning4j.", "org.nd4j.");

    /** PyTorch's hard sigmoid on {@code z} is DL4J's on {@code z * HARD_SIGMOID_FACTOR}. */
    static final double HARD_SIGMOID_FACTOR = (1.0 / 6.0) / 0.2;

    private DeployModel() {
    }

    /**
     * @param trained a trained network (not modified)
     * @param inputs  the network inputs' types; needed only where a shape must be known (a channel-multiply gate),
     *                may be empty otherwise
     * @return the deploy network, stock DL4J classes only, same layer names, inference outputs equal to
     * {@code trained}'s
     * @throws UnsupportedLayerException naming the first layer or vertex that has no stock DL4J form
     */
    public static ComputationGraph of(ComputationGraph trained, InputType... inputs) {
        ComputationGraph source = ConvBnReluFusion.unfuse(trained);
        return new Builder(source, inputs).build();
    }

    /**
     * Writes a deploy network as a ModelSerializer zip without updater state, atomically.
     *
     * @param deploy a network from {@link #of}
     * @param file   the zip to write; its folder must exist
     * @throws IllegalArgumentException naming the file when its folder does not exist, and naming the vertex when
     *                                  {@code deploy} still holds a non-stock class
     * @throws IOException              when writing fails (nothing is left at {@code file})
     */
    public static void write(ComputationGraph deploy, Path file) throws IOException {
        requireFolder(file);
        requireStock(deploy.getConfiguration());
        AtomicFiles.write(file, o -> ModelSerializer.writeModel(deploy, o, false));
    }

    /**
     * @param file an output file
     * @throws IllegalArgumentException when its folder does not exist or it is a folder
     */
    public static void requireFolder(Path file) {
        Path parent = file.toAbsolutePath().normalize().getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new IllegalArgumentException("cannot write " + file + ": folder " + parent + " does not exist");
        }
        if (Files.isDirectory(file)) {
            throw new IllegalArgumentException("cannot write " + file + ": it is a folder");
        }
    }

    /**
     * @param conf a configuration
     * @throws UnsupportedLayerException naming the first vertex whose JSON names a class outside DL4J and ND4J
     */
    public static void requireStock(ComputationGraphConfiguration conf) {
        for (Map.Entry<String, GraphVertex> e : conf.getVertices().entrySet()) {
            String json;
            try {
                json = NeuralNetConfiguration.mapper().writeValueAsString(e.getValue());
            } catch (JsonProcessingException ex) {
                throw new IllegalStateException("vertex '" + e.getKey() + "' cannot be written as JSON", ex);
            }
            if (json.contains("\"org.repopt.") || json.contains("\"@class\":\"org.repopt")) {
                throw new UnsupportedLayerException(e.getKey(), "its configuration names a repopt-dl4j class");
            }
        }
        String json = conf.toJson();
        if (json.contains("org.repopt.")) {
            throw new UnsupportedLayerException("(graph)", "the graph configuration names a repopt-dl4j class");
        }
    }

    static boolean isStock(Object o) {
        if (o == null) {
            return true;
        }
        String n = o.getClass().getName();
        return STOCK_PACKAGES.stream().anyMatch(n::startsWith);
    }

    /** One pass over the source graph in topological order. */
    private static final class Builder {
        private final ComputationGraph source;
        private final ComputationGraphConfiguration conf;
        private final InputType[] inputTypes;
        private Map<String, InputType> types;
        private final Map<String, List<String>> consumers = new HashMap<>();
        /** Source vertex name to the name its consumers read in the deploy graph (a folded BN reads its conv). */
        private final Map<String, String> alias = new HashMap<>();
        /** Deploy conv name to its kernel and bias. */
        private final Map<String, double[][]> convParams = new LinkedHashMap<>();
        private final ComputationGraphConfiguration.GraphBuilder g;

        Builder(ComputationGraph source, InputType[] inputTypes) {
            this.source = source;
            this.conf = source.getConfiguration();
            this.inputTypes = inputTypes;
            for (Map.Entry<String, List<String>> e : conf.getVertexInputs().entrySet()) {
                for (String in : e.getValue()) {
                    consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(e.getKey());
                }
            }
            g = new NeuralNetConfiguration.Builder().dataType(conf.getDataType()).updater(new NoOp())
                    .weightInit(WeightInit.ZERO).graphBuilder();
            g.addInputs(conf.getNetworkInputs().toArray(new String[0]));
            conf.getNetworkInputs().forEach(i -> alias.put(i, i));
        }

        ComputationGraph build() {
            Set<String> folded = new LinkedHashSet<>();
            for (String name : topologicalOrder()) {
                if (folded.contains(name)) {
                    continue;
                }
                GraphVertex v = conf.getVertices().get(name);
                String[] in = conf.getVertexInputs().get(name).stream().map(this::resolved).toArray(String[]::new);
                if (v instanceof LayerVertex) {
                    LayerVertex lv = (LayerVertex) v;
                    org.deeplearning4j.nn.conf.layers.Layer l = lv.getLayerConf().getLayer();
                    InputPreProcessor pp = lv.getPreProcessor() == null ? null : lv.getPreProcessor().clone();
                    if (!isStock(pp)) {
                        throw new UnsupportedLayerException(name, "input preprocessor "
                                + pp.getClass().getName() + " is not DL4J's");
                    }
                    if (isConvolution(l)) {
                        String bn = foldableBatchNorm(name, (ConvolutionLayer) l);
                        addConvolution(name, (ConvolutionLayer) l, bn, pp, in);
                        if (bn != null) {
                            folded.add(bn);
                            alias.put(bn, name);
                        }
                    } else {
                        g.addLayer(name, stockCopy(name, l), pp, in);
                    }
                } else if (v instanceof ChannelMultiplyVertex) {
                    addChannelMultiply(name, in);
                } else {
                    if (!isStock(v)) {
                        throw new UnsupportedLayerException(name, "vertex " + v.getClass().getName()
                                + " has no stock DL4J form");
                    }
                    g.addVertex(name, v.clone(), in);
                }
                alias.putIfAbsent(name, name);
            }
            g.setOutputs(conf.getNetworkOutputs().stream().map(this::resolved).toArray(String[]::new));
            ComputationGraphConfiguration out = g.build();
            requireStock(out);
            OneDnnHelpers.enable();
            ComputationGraph net = new ComputationGraph(out);
            net.init();
            copyParams(net);
            return net;
        }

        private String resolved(String sourceName) {
            String a = alias.get(sourceName);
            if (a == null) {
                throw new IllegalStateException("vertex '" + sourceName + "' read before it was written");
            }
            return a;
        }

        private List<String> topologicalOrder() {
            List<String> order = new ArrayList<>();
            Set<String> done = new LinkedHashSet<>(conf.getNetworkInputs());
            List<String> pending = new ArrayList<>(conf.getVertices().keySet());
            while (!pending.isEmpty()) {
                boolean progress = false;
                for (var it = pending.iterator(); it.hasNext(); ) {
                    String n = it.next();
                    if (done.containsAll(conf.getVertexInputs().get(n))) {
                        order.add(n);
                        done.add(n);
                        it.remove();
                        progress = true;
                    }
                }
                if (!progress) {
                    throw new UnsupportedLayerException(pending.get(0), "the graph has a cycle or a missing input");
                }
            }
            return order;
        }

        private static boolean isConvolution(org.deeplearning4j.nn.conf.layers.Layer l) {
            return ConvolutionKinds.isPlain2D(l) || l.getClass() == DepthwiseConvolution2D.class;
        }

        /** @return the batch norm that can be folded into conv {@code name}, or {@code null} */
        private String foldableBatchNorm(String name, ConvolutionLayer conv) {
            List<String> c = consumers.getOrDefault(name, List.of());
            if (c.size() != 1 || conf.getNetworkOutputs().contains(name) || !isIdentity(conv.getActivationFn())) {
                return null;
            }
            GraphVertex v = conf.getVertices().get(c.get(0));
            if (!(v instanceof LayerVertex) || ((LayerVertex) v).getPreProcessor() != null
                    || !(((LayerVertex) v).getLayerConf().getLayer() instanceof BatchNormalization)) {
                return null;
            }
            return c.get(0);
        }

        private void addConvolution(String name, ConvolutionLayer l, String bn, InputPreProcessor pp, String[] in) {
            IActivation act = l.getActivationFn() == null ? new ActivationIdentity() : l.getActivationFn();
            double factor = 1.0;
            if (act instanceof ActivationTorchHardSigmoid) {
                act = Activation.HARDSIGMOID.getActivationFunction();
                factor = HARD_SIGMOID_FACTOR;
            } else if (!isStock(act)) {
                throw new UnsupportedLayerException(name, "activation " + act.getClass().getName()
                        + " has no stock DL4J form");
            }
            boolean depthwise = l instanceof DepthwiseConvolution2D;
            ConvolutionLayer.BaseConvBuilder<?> b = depthwise
                    ? new DepthwiseConvolution2D.Builder()
                    .depthMultiplier(((DepthwiseConvolution2D) l).getDepthMultiplier())
                    : new ConvolutionLayer.Builder();
            boolean bias = l.isHasBias() || bn != null || factor != 1.0;
            b.kernelSize(l.getKernelSize()).stride(l.getStride()).padding(l.getPadding()).dilation(l.getDilation())
                    .convolutionMode(l.getConvolutionMode()).hasBias(bias);
            b.nIn(l.getNIn()).nOut(l.getNOut()).activation(act);
            ConvolutionLayer built = b.build();
            built.setCnn2dDataFormat(l.getCnn2dDataFormat());
            g.addLayer(name, built, pp, in);
            convParams.put(name, kernelAndBias(name, depthwise, bn, factor));
        }

        private double[][] kernelAndBias(String name, boolean depthwise, String bn, double factor) {
            Layer conv = source.getLayer(name);
            INDArray wArr = conv.getParam(depthwise ? DepthwiseConvolutionParamInitializer.WEIGHT_KEY
                    : ConvolutionParamInitializer.WEIGHT_KEY);
            INDArray bArr = conv.getParam(depthwise ? DepthwiseConvolutionParamInitializer.BIAS_KEY
                    : ConvolutionParamInitializer.BIAS_KEY);
            double[] w = ParamValues.of(wArr);
            // output channel of a c-order kernel element: [out, in, kH, kW] or depthwise [kH, kW, C, multiplier]
            int channels = (int) (depthwise ? wArr.size(2) * wArr.size(3) : wArr.size(0));
            double[] b = bArr == null ? new double[channels] : ParamValues.of(bArr);
            double[] k = new double[channels];
            double[] shift = new double[channels];
            Arrays.fill(k, 1.0);
            if (bn != null) {
                BatchNormAffine affine = BatchNormAffine.of(source.getLayer(bn));
                if (affine.channels() != channels) {
                    throw new UnsupportedLayerException(bn, affine.channels() + " channels after conv '" + name
                            + "' with " + channels + " output channels");
                }
                k = affine.scale();
                shift = affine.shift();
            }
            int perChannel = w.length / channels;
            for (int i = 0; i < w.length; i++) {
                int o = depthwise ? i % channels : i / perChannel;
                w[i] *= k[o] * factor;
            }
            double[] bias = new double[channels];
            for (int o = 0; o < channels; o++) {
                bias[o] = (shift[o] + b[o] * k[o]) * factor;
            }
            return new double[][]{w, bias};
        }

        private void addChannelMultiply(String name, String[] in) {
            if (types == null) {
                if (inputTypes.length != conf.getNetworkInputs().size()) {
                    throw new UnsupportedLayerException(name, "a channel-multiply gate needs the feature map's size: "
                            + "give the network's input types (" + conf.getNetworkInputs().size() + " inputs, "
                            + inputTypes.length + " types given)");
                }
                types = conf.getLayerActivationTypes(inputTypes);
            }
            List<String> src = conf.getVertexInputs().get(name);
            InputType x = types.get(src.get(0));
            InputType gate = types.get(src.get(1));
            if (!(x instanceof InputType.InputTypeConvolutional) || !(gate instanceof InputType.InputTypeConvolutional)
                    || ((InputType.InputTypeConvolutional) gate).getHeight() != 1
                    || ((InputType.InputTypeConvolutional) gate).getWidth() != 1) {
                throw new UnsupportedLayerException(name, "channel multiply of " + x + " by " + gate
                        + ": only a CNN feature map times a 1x1 CNN gate has a stock DL4J form");
            }
            InputType.InputTypeConvolutional map = (InputType.InputTypeConvolutional) x;
            String up = name + "_gate_upsampling";
            if (conf.getVertices().containsKey(up)) {
                throw new UnsupportedLayerException(name, "the graph already has a vertex named '" + up + "'");
            }
            g.addLayer(up, new Upsampling2D.Builder().size(new int[]{(int) map.getHeight(), (int) map.getWidth()})
                    .dataFormat(map.getFormat()).build(), in[1]);
            g.addVertex(name, new ElementWiseVertex(ElementWiseVertex.Op.Product), in[0], up);
        }

        private org.deeplearning4j.nn.conf.layers.Layer stockCopy(String name,
                                                                  org.deeplearning4j.nn.conf.layers.Layer l) {
            if (!isStock(l)) {
                throw new UnsupportedLayerException(name, "layer " + l.getClass().getName()
                        + " has no stock DL4J form");
            }
            org.deeplearning4j.nn.conf.layers.Layer c = l.clone();
            c.setIDropout(null);
            c.setConstraints(null);
            if (c instanceof BaseLayer) {
                BaseLayer b = (BaseLayer) c;
                b.setIUpdater(new NoOp());
                b.setBiasUpdater(null);
                b.setRegularization(new ArrayList<>());
                b.setRegularizationBias(new ArrayList<>());
                b.setWeightNoise((IWeightNoise) null);
                b.setGradientNormalization(org.deeplearning4j.nn.conf.GradientNormalization.None);
                if (!isStock(b.getWeightInitFn())) {
                    b.setWeightInitFn(WeightInit.ZERO.getWeightInitFunction());
                }
                if (!isStock(b.getActivationFn())) {
                    throw new UnsupportedLayerException(name, "activation " + b.getActivationFn().getClass().getName()
                            + " has no stock DL4J form");
                }
            }
            if (c instanceof org.deeplearning4j.nn.conf.layers.BaseOutputLayer) {
                var o = (org.deeplearning4j.nn.conf.layers.BaseOutputLayer) c;
                ILossFunction loss = o.getLossFn();
                if (!isStock(loss)) {
                    o.setLossFn(new LossMCXENT());
                }
            }
            if (c instanceof org.deeplearning4j.nn.conf.layers.ActivationLayer
                    && !isStock(((org.deeplearning4j.nn.conf.layers.ActivationLayer) c).getActivationFn())) {
                throw new UnsupportedLayerException(name, "activation "
                        + ((org.deeplearning4j.nn.conf.layers.ActivationLayer) c).getActivationFn().getClass().getName()
                        + " has no stock DL4J form");
            }
            return c;
        }

        private void copyParams(ComputationGraph net) {
            for (Layer l : net.getLayers()) {
                String name = l.conf().getLayer().getLayerName();
                double[][] conv = convParams.get(name);
                if (conv != null) {
                    boolean depthwise = l.conf().getLayer() instanceof DepthwiseConvolution2D;
                    ParamValues.assign(l.getParam(depthwise ? DepthwiseConvolutionParamInitializer.WEIGHT_KEY
                            : ConvolutionParamInitializer.WEIGHT_KEY), conv[0]);
                    ParamValues.assign(l.getParam(depthwise ? DepthwiseConvolutionParamInitializer.BIAS_KEY
                            : ConvolutionParamInitializer.BIAS_KEY), conv[1]);
                    continue;
                }
                for (Map.Entry<String, INDArray> p : l.paramTable().entrySet()) {
                    Layer from = source.getLayer(name);
                    INDArray src = from == null ? null : from.getParam(p.getKey());
                    if (src == null || !Arrays.equals(src.shape(), p.getValue().shape())) {
                        throw new IllegalStateException("layer '" + name + "': parameter " + p.getKey()
                                + " has shape " + Arrays.toString(p.getValue().shape()) + " in the deploy graph but "
                                + (src == null ? "is missing" : Arrays.toString(src.shape())) + " in the trained one");
                    }
                    p.getValue().assign(src);
                }
            }
        }

        private static boolean isIdentity(IActivation a) {
            return a == null || a instanceof ActivationIdentity;
        }
    }
}
