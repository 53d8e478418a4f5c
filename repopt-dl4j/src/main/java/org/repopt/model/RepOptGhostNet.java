package org.repopt.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.distribution.NormalDistribution;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.repopt.gr.BlockScales;
import org.repopt.gr.CslaBlockLayers;
import org.repopt.gr.RepOptimizer;
import org.repopt.gr.ScalesFile;
import org.repopt.nn.ActivationTorchHardSigmoid;
import org.repopt.nn.ChannelMultiplyVertex;
import org.repopt.nn.ChannelScaleLayer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * RepOpt-GhostNet (the reference code's second RepOpt family, {@code repoptimizer/repoptghostnet_model.py}): a
 * RepGhostNet whose ghost modules' re-parameterized identity ("fusion") branch lives in the optimizer. One
 * {@link GhostNetSpec}, three modes:
 * <ul>
 *   <li>{@link Mode#TARGET}: ghost module {@code relu?(bn(dwconv3x3(x1)))} with {@code x1 = relu?(bn(conv1x1(x)))};
 *       trained with the RepOptimizer, whose Grad Mult acts on the cheap depthwise kernels only. The trained network
 *       is the deployable model.</li>
 *   <li>{@link Mode#SEARCH}: the Hyper-Search model,
 *       {@code relu?(bn(scale_conv ⊙ dwconv3x3(x1) + scale_identity ⊙ x1))} with trainable scales starting at
 *       {@code sqrt(2 / (num_stage_modules + 1))} and 1 ({@link GhostModuleSpec#initialCheapScale()}).</li>
 *   <li>{@link Mode#CSLA}: the same with {@code scale_conv} constant and {@code scale_identity} trainable from given
 *       scales: trained with plain SGD, the model the target with the same scales is equivalent to.</li>
 * </ul>
 * Everything else is as the reference: stem conv3x3 stride 2 + BN + ReLU; bottlenecks with a stride-2 depthwise conv
 * + BN, squeeze-and-excitation (global average pooling, 1x1 conv + bias + ReLU, 1x1 conv + bias, gate
 * {@code relu6(x + 3) / 6}, channel multiply) and an identity or depthwise + 1x1 projecting shortcut; a 1x1 conv +
 * BN + ReLU, global average pooling, a 1x1 conv head with bias + ReLU, dropout and a linear softmax classifier.
 * Convs have no bias except those of the SE block and the head; PyTorch padding {@code k / 2}. Depthwise convs have
 * no bias (DL4J's depthwise layer with a bias would map updater state onto the wrong parameters) and start from He
 * initialization with the depthwise fan-in {@code k * k} (DL4J's own would count every input channel).
 */
public final class RepOptGhostNet {

    /** Which scales the ghost modules have. */
    public enum Mode {
        /** No scales, no fusion branch: the network the RepOptimizer trains. */
        TARGET,
        /** Trainable cheap and fusion scales: the Hyper-Search model. */
        SEARCH,
        /** Constant cheap scales from a scales file, trainable fusion scales: the CSLA model. */
        CSLA
    }

    private final GhostNetSpec spec;
    private final DataType dataType;
    private final long seed;
    private final Mode mode;
    private final List<BlockScales> constantScales;

    private RepOptGhostNet(Builder b) {
        this.spec = b.spec;
        this.dataType = b.dataType;
        this.seed = b.seed;
        this.mode = b.mode;
        this.constantScales = b.constantScales;
        if (mode == Mode.CSLA) {
            spec.requireMatches(constantScales, displayName());
            constantScales.forEach(s -> GhostNetScales.requireCheapConv(s, displayName()));
        }
    }

    /** @return a builder for the given architecture (target mode unless told otherwise) */
    public static Builder builder(GhostNetSpec spec) {
        return new Builder(spec);
    }

    /** @return the architecture */
    public GhostNetSpec spec() {
        return spec;
    }

    /** @return target, search or CSLA */
    public Mode mode() {
        return mode;
    }

    /** @return the network's data type */
    public DataType dataType() {
        return dataType;
    }

    /** @return the initialization seed */
    public long seed() {
        return seed;
    }

    /** @return {@code RepOptGhostNet}, {@code RepOptGhostNet-HS} or {@code RepOptGhostNet-CSLA} */
    public String family() {
        switch (mode) {
            case SEARCH:
                return "RepOptGhostNet-HS";
            case CSLA:
                return "RepOptGhostNet-CSLA";
            default:
                return "RepOptGhostNet";
        }
    }

    /** @return e.g. {@code RepOptGhostNet-0.5x}, the {@code model} of its scales file */
    public String displayName() {
        return family() + "-" + spec.name();
    }

    /** @return the network's input type */
    public InputType inputType() {
        return InputType.convolutional(spec.inputHeight(), spec.inputWidth(), spec.inputChannels());
    }

    /**
     * @return module name (the {@code block} of its scales, e.g. {@code blocks.0.0.ghost1}) to the name of its cheap
     * depthwise conv, in forward order: where the RepOptimizer's Grad Mult goes
     */
    public Map<String, String> cheapConvOfModule() {
        Map<String, String> out = new LinkedHashMap<>();
        spec.modules().forEach(m -> out.put(m.name(), LayerNames.cheapConv(m.name())));
        return out;
    }

    /**
     * Target mode: builds the network and attaches the RepOptimizer, whose Grad Mult goes to each module's cheap
     * depthwise kernel ({@link #cheapConvOfModule()}); every other parameter trains as plain SGD with L2. The network
     * is re-initialized (Rule of Initialization) unless the optimizer is in fine-tune mode.
     *
     * @param optimizer a RepOptimizer builder holding one scales entry per ghost module, in forward order
     * @return the network, ready for {@code fit}
     * @throws IllegalStateException    where this model is not in target mode
     * @throws IllegalArgumentException naming the first module whose scales do not fit
     */
    public ComputationGraph init(RepOptimizer.Builder optimizer) {
        if (mode != Mode.TARGET) {
            throw new IllegalStateException(displayName() + " has its scales in the architecture; the RepOptimizer "
                    + "trains the target model (RepOptGhostNet.builder(spec).build())");
        }
        spec.requireMatches(optimizer.scales(), displayName());
        return optimizer.mapByName(cheapConvOfModule()).applyTo(conf());
    }

    /**
     * The one way a ghost module's scales are written as {@link BlockScales}: {@code scale_conv} the cheap
     * operation's scale, {@code scale_identity} the fusion scale, a depthwise 3x3 kernel with no 1x1 branch
     * ({@code scale_1x1} null).
     *
     * @param m      the module
     * @param cheap  its cheap scales, one per channel
     * @param fusion its fusion scales, one per channel
     * @return the module's scales, named after it
     */
    public static BlockScales moduleScales(GhostModuleSpec m, double[] cheap, double[] fusion) {
        return BlockScales.depthwise(m.name(), m.channels(), 1, GhostModuleSpec.CHEAP_KERNEL, cheap, fusion);
    }

    /**
     * @param spec an architecture
     * @return the scales a Hyper-Search starts from: {@link GhostModuleSpec#initialCheapScale()} and fusion 1, per
     * module in forward order
     */
    public static List<BlockScales> initialScales(GhostNetSpec spec) {
        List<BlockScales> out = new ArrayList<>();
        for (GhostModuleSpec m : spec.modules()) {
            double[] cheap = new double[m.channels()];
            Arrays.fill(cheap, m.initialCheapScale());
            double[] fusion = new double[m.channels()];
            Arrays.fill(fusion, 1.0);
            out.add(moduleScales(m, cheap, fusion));
        }
        return out;
    }

    /**
     * Search mode: the trained scales of every ghost module, as a scales file of this width that the target takes
     * ({@link #init}) at any input shape and class count.
     *
     * @param net    a trained network of this model ({@link #conf()} in search mode)
     * @param source the provenance note the file carries
     * @return the scales
     * @throws IllegalStateException    where this model is not in search mode
     * @throws IllegalArgumentException where {@code net} lacks a module's scale layer
     */
    public ScalesFile exportScales(ComputationGraph net, String source) {
        if (mode != Mode.SEARCH) {
            throw new IllegalStateException(displayName() + " has no trainable cheap scales to export; the "
                    + "Hyper-Search model is RepOptGhostNet.builder(spec).search()");
        }
        List<BlockScales> out = new ArrayList<>();
        for (GhostModuleSpec m : spec.modules()) {
            out.add(moduleScales(m, scalesOf(net, LayerNames.scaleConv(m.name())),
                    scalesOf(net, LayerNames.scaleIdentity(m.name()))));
        }
        return GhostNetScales.of(spec, source, out);
    }

    private static double[] scalesOf(ComputationGraph net, String layerName) {
        return CslaBlockLayers.scalesOf(net, layerName,
                "not a RepOpt-GhostNet Hyper-Search network of this architecture");
    }

    /** @return the whole graph, open for additions; input types set */
    public ComputationGraphConfiguration.GraphBuilder graphBuilder() {
        ComputationGraphConfiguration.GraphBuilder g = VggModel.newGraph(seed, dataType);
        String prev = convBnRelu(g, LayerNames.conv(LayerNames.STEM), LayerNames.STEM, 3, 2, spec.stemChannels(),
                LayerNames.INPUT);
        int moduleIndex = 0;
        for (GhostBottleneckSpec b : spec.bottlenecks()) {
            prev = addBottleneck(g, b, moduleIndex, prev);
            moduleIndex += 2;
        }
        prev = convBnRelu(g, LayerNames.conv1x1(GhostNetSpec.FINAL_BLOCK), GhostNetSpec.FINAL_BLOCK, 1, 1,
                spec.finalChannels(), prev);
        g.addLayer(LayerNames.POOL, new GlobalPoolingLayer.Builder(PoolingType.AVG).collapseDimensions(false).build(),
                prev);
        g.addLayer(LayerNames.HEAD, activated(VggModel.conv(1, 1, GhostNetSpec.HEAD_CHANNELS, true),
                new ActivationReLU()), LayerNames.POOL);
        OutputLayer.Builder linear = new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                .nOut(spec.numClasses()).activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER);
        if (spec.dropout() > 0) {
            linear.dropOut(1 - spec.dropout()); // DL4J's argument is the retain probability
        }
        g.addLayer(LayerNames.LINEAR, linear.build(), LayerNames.HEAD);
        return g.setOutputs(LayerNames.LINEAR).setInputTypes(inputType());
    }

    /** @return the configuration */
    public ComputationGraphConfiguration conf() {
        return graphBuilder().build();
    }

    /** @return an initialized network with DL4J's default updater (oneDNN helpers on) */
    public ComputationGraph init() {
        return VggModel.initialized(conf());
    }

    private String addBottleneck(ComputationGraphConfiguration.GraphBuilder g, GhostBottleneckSpec b, int moduleIndex,
                                 String input) {
        String x = addModule(g, b.ghost1(), moduleIndex, input);
        if (b.stride() > 1) {
            g.addLayer(LayerNames.depthwise(b.name()), depthwise(b.mid(), b.kernel(), b.stride()), x);
            g.addLayer(LayerNames.depthwiseBn(b.name()), VggModel.bn(), LayerNames.depthwise(b.name()));
            x = LayerNames.depthwiseBn(b.name());
        }
        if (b.hasSe()) {
            g.addLayer(LayerNames.sePool(b.name()), new GlobalPoolingLayer.Builder(PoolingType.AVG)
                    .collapseDimensions(false).build(), x);
            g.addLayer(LayerNames.seReduce(b.name()), activated(VggModel.conv(1, 1, b.seChannels(), true),
                    new ActivationReLU()), LayerNames.sePool(b.name()));
            g.addLayer(LayerNames.seExpand(b.name()), activated(VggModel.conv(1, 1, b.mid(), true),
                    new ActivationTorchHardSigmoid()), LayerNames.seReduce(b.name()));
            g.addVertex(LayerNames.seGate(b.name()), new ChannelMultiplyVertex(), x, LayerNames.seExpand(b.name()));
            x = LayerNames.seGate(b.name());
        }
        String out = addModule(g, b.ghost2(), moduleIndex + 1, x);
        String shortcut = input;
        if (!b.hasIdentityShortcut()) {
            g.addLayer(LayerNames.shortcutDepthwise(b.name()), depthwise(b.in(), b.kernel(), b.stride()), input);
            g.addLayer(LayerNames.shortcutDepthwiseBn(b.name()), VggModel.bn(), LayerNames.shortcutDepthwise(b.name()));
            g.addLayer(LayerNames.shortcutConv(b.name()), VggModel.conv(1, 1, b.out(), false),
                    LayerNames.shortcutDepthwiseBn(b.name()));
            g.addLayer(LayerNames.shortcutBn(b.name()), VggModel.bn(), LayerNames.shortcutConv(b.name()));
            shortcut = LayerNames.shortcutBn(b.name());
        }
        g.addVertex(LayerNames.residual(b.name()), new ElementWiseVertex(ElementWiseVertex.Op.Add), out, shortcut);
        return LayerNames.residual(b.name());
    }

    private String addModule(ComputationGraphConfiguration.GraphBuilder g, GhostModuleSpec m, int index, String input) {
        String n = m.name();
        g.addLayer(LayerNames.primaryConv(n), VggModel.conv(1, 1, m.channels(), false), input);
        g.addLayer(LayerNames.primaryBn(n), VggModel.bn(), LayerNames.primaryConv(n));
        String x1 = LayerNames.primaryBn(n);
        if (m.relu()) {
            g.addLayer(LayerNames.primaryRelu(n), new ActivationLayer(Activation.RELU), x1);
            x1 = LayerNames.primaryRelu(n);
        }
        g.addLayer(LayerNames.cheapConv(n), depthwise(m.channels(), GhostModuleSpec.CHEAP_KERNEL, 1), x1);
        String beforeBn = LayerNames.cheapConv(n);
        if (mode != Mode.TARGET) {
            BlockScales given = mode == Mode.CSLA ? constantScales.get(index) : null;
            g.addLayer(LayerNames.scaleConv(n), scale(m.channels(), given == null ? null : given.scaleConv(),
                    m.initialCheapScale(), mode == Mode.SEARCH), LayerNames.cheapConv(n));
            g.addLayer(LayerNames.scaleIdentity(n), scale(m.channels(), given == null ? null : given.scaleIdentity(),
                    1.0, true), x1);
            g.addVertex(LayerNames.sum(n), new ElementWiseVertex(ElementWiseVertex.Op.Add), LayerNames.scaleConv(n),
                    LayerNames.scaleIdentity(n));
            beforeBn = LayerNames.sum(n);
        }
        g.addLayer(LayerNames.bn(n), VggModel.bn(), beforeBn);
        if (!m.relu()) {
            return LayerNames.bn(n);
        }
        g.addLayer(LayerNames.relu(n), new ActivationLayer(Activation.RELU), LayerNames.bn(n));
        return LayerNames.relu(n);
    }

    private static String convBnRelu(ComputationGraphConfiguration.GraphBuilder g, String conv, String block, int kernel,
                                     int stride, int out, String input) {
        g.addLayer(conv, VggModel.conv(kernel, stride, out, false), input);
        g.addLayer(LayerNames.bn(block), VggModel.bn(), conv);
        g.addLayer(LayerNames.relu(block), new ActivationLayer(Activation.RELU), LayerNames.bn(block));
        return LayerNames.relu(block);
    }

    /** A depthwise conv (groups = channels), no bias, PyTorch padding {@code k / 2}, He init with fan-in {@code k*k}. */
    private static DepthwiseConvolution2D depthwise(int channels, int kernel, int stride) {
        return new DepthwiseConvolution2D.Builder(kernel, kernel).stride(stride, stride).padding(kernel / 2, kernel / 2)
                .convolutionMode(ConvolutionMode.Truncate).depthMultiplier(1).nIn(channels).nOut(channels)
                .hasBias(false).activation(Activation.IDENTITY)
                .weightInit(new NormalDistribution(0, Math.sqrt(2.0 / (kernel * kernel))))
                .cudnnAllowFallback(false).build();
    }

    private static ConvolutionLayer activated(ConvolutionLayer conv, IActivation activation) {
        conv.setActivationFn(activation);
        return conv;
    }

    private static ChannelScaleLayer scale(int channels, double[] values, double init, boolean trainable) {
        ChannelScaleLayer.Builder builder = new ChannelScaleLayer.Builder().channels(channels).trainable(trainable);
        return (values == null ? builder.initialScale(init) : builder.initialScales(values)).build();
    }

    /** Builds a {@link RepOptGhostNet}. */
    public static final class Builder {
        private final GhostNetSpec spec;
        private DataType dataType = DataType.FLOAT;
        private long seed = VggModel.DEFAULT_SEED;
        private Mode mode = Mode.TARGET;
        private List<BlockScales> constantScales;

        private Builder(GhostNetSpec spec) {
            this.spec = Objects.requireNonNull(spec, "spec");
        }

        /** @param t FLOAT (default), DOUBLE for exactness tests, HALF */
        public Builder dataType(DataType t) {
            this.dataType = Objects.requireNonNull(t, "dataType");
            return this;
        }

        /** @param s initialization seed (default {@value VggModel#DEFAULT_SEED}) */
        public Builder seed(long s) {
            this.seed = s;
            return this;
        }

        /** Target mode (the default): plain ghost modules for the RepOptimizer. */
        public Builder target() {
            this.mode = Mode.TARGET;
            this.constantScales = null;
            return this;
        }

        /** Hyper-Search mode: trainable scales at the reference's starting values. */
        public Builder search() {
            this.mode = Mode.SEARCH;
            this.constantScales = null;
            return this;
        }

        /**
         * CSLA mode: constant {@code scale_conv}, trainable {@code scale_identity} starting at the given values.
         *
         * @param scales one entry per ghost module in forward order ({@code scale_1x1} absent or zero)
         */
        public Builder csla(List<BlockScales> scales) {
            this.mode = Mode.CSLA;
            this.constantScales = List.copyOf(Objects.requireNonNull(scales, "scales"));
            return this;
        }

        /**
         * @return the model
         * @throws IllegalArgumentException where CSLA scales do not fit the architecture
         */
        public RepOptGhostNet build() {
            return new RepOptGhostNet(this);
        }
    }
}
