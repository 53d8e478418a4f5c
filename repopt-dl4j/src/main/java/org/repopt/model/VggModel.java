package org.repopt.model;

import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.repopt.backend.Nd4jRandom;
import org.repopt.backend.OneDnnHelpers;
import org.repopt.gr.RepOptimizer;
import org.repopt.nn.BlockEngine;
import org.repopt.nn.EngineSelectingConvolutionLayer;

import java.util.Objects;
import java.util.function.Function;

/**
 * What every model of the family shares, DL4J-zoo style: a {@link VggSpec}, a data type and a seed, the input,
 * the stem-and-stages skeleton and the head (global average pooling, linear, softmax cross-entropy). A family only
 * says how one block is built ({@link #addBlock}).
 *
 * <p>{@link #conf()} builds blocks as DL4J's {@code conv -> BatchNormalization -> ReLU} layers: the configuration a
 * DL4J user reads and edits, and the one the RepOptimizer assigns scales on. The networks {@link #init()} and
 * {@link #init(RepOptimizer.Builder)} return are in the {@linkplain #engine() engine's} form: with
 * {@link BlockEngine#ONEDNN} (the default on the CPU backend for FLOAT networks when oneDNN is present) each such
 * triple is one fused {@code ConvBnReluLayer} with the same parameters, initialized identically. Families whose
 * blocks have branches (RepVGG, Hyper-Search) have no such triple and are the same under both engines.
 *
 * <p>The configuration carries DL4J's default updater: training code attaches the RepOptimizer
 * ({@code RepOptimizer.sgd(...)}) or the same recipe without Grad Mult ({@code RepOptimizer.baselineSgd()}).
 * Conv and BatchNorm layers refuse DL4J's silent fallback from a failed oneDNN/cuDNN helper to the slow built-in
 * path: a helper failure is an error, not a five-fold slowdown.
 */
public abstract class VggModel {

    /** The seed a builder uses unless told otherwise. */
    public static final long DEFAULT_SEED = 42;
    /** BatchNorm epsilon, PyTorch's default. */
    public static final double BN_EPS = 1e-5;
    /** BatchNorm running-average decay, PyTorch's momentum 0.1. */
    public static final double BN_DECAY = 0.9;
    /**
     * Conv layers keep their forward output for the backward pass. Without a cache DL4J's conv layer runs its
     * forward convolution a second time during backprop, a third more convolution work per step.
     */
    public static final CacheMode CACHE_MODE = CacheMode.DEVICE;

    private final VggSpec spec;
    private final DataType dataType;
    private final long seed;
    private final BlockEngine engine;

    /** @param builder the common options */
    protected VggModel(Builder<?, ?> builder) {
        this.spec = builder.spec;
        this.dataType = builder.dataType;
        this.seed = builder.seed;
        this.engine = builder.engine != null ? builder.engine : BlockEngine.defaultFor(builder.dataType);
    }

    /** @return the architecture */
    public VggSpec spec() {
        return spec;
    }

    /** @return the network's data type */
    public DataType dataType() {
        return dataType;
    }

    /**
     * @return the initialization seed; every seed, 0 included, gives the same weights on every build (the
     * configuration carries {@link Nd4jRandom#nativeSeed} of it, since DL4J leaves seed 0 unseeded)
     */
    public long seed() {
        return seed;
    }

    /** @return how conv-BN-ReLU blocks are computed */
    public BlockEngine engine() {
        return engine;
    }

    /** @return the family's name, e.g. {@code RepOpt-VGG} */
    public abstract String family();

    /** @return e.g. {@code RepOpt-VGG-B1} */
    public String displayName() {
        return family() + "-" + spec.name();
    }

    /**
     * Adds one block to the graph.
     *
     * @param g     the graph under construction
     * @param block the block
     * @param input the vertex feeding the block
     * @return the name of the block's output vertex
     */
    protected abstract String addBlock(ComputationGraphConfiguration.GraphBuilder g, BlockSpec block, String input);

    /** @return the whole graph as DL4J layers (three per conv-BN-ReLU block), open for additions; input types set */
    public ComputationGraphConfiguration.GraphBuilder graphBuilder() {
        ComputationGraphConfiguration.GraphBuilder g = newGraph(seed, dataType);
        String prev = LayerNames.INPUT;
        for (BlockSpec b : spec.blocks()) {
            prev = addBlock(g, b, prev);
        }
        g.addLayer(LayerNames.POOL, new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), prev);
        g.addLayer(LayerNames.LINEAR, new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                .nOut(spec.numClasses()).activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER).build(),
                LayerNames.POOL);
        return g.setOutputs(LayerNames.LINEAR)
                .setInputTypes(InputType.convolutional(spec.inputHeight(), spec.inputWidth(), spec.inputChannels()));
    }

    /** @return the configuration in DL4J's layers (three per conv-BN-ReLU block) */
    public ComputationGraphConfiguration conf() {
        return graphBuilder().build();
    }

    /** @return an initialized network with DL4J's default updater (oneDNN helpers on), in the engine's form */
    public ComputationGraph init() {
        return initialized(engine.apply(conf()));
    }

    /**
     * @return an empty graph with every model's defaults (seed, data type, He initialization, cache mode) and the
     * input {@link LayerNames#INPUT}
     */
    static ComputationGraphConfiguration.GraphBuilder newGraph(long seed, DataType dataType) {
        return new NeuralNetConfiguration.Builder()
                .seed(Nd4jRandom.nativeSeed(seed)).dataType(dataType).weightInit(WeightInit.RELU).cacheMode(CACHE_MODE)
                .graphBuilder().addInputs(LayerNames.INPUT);
    }

    /** @return the configuration as an initialized network with DL4J's default updater (oneDNN helpers on) */
    static ComputationGraph initialized(ComputationGraphConfiguration conf) {
        OneDnnHelpers.enable();
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        return net;
    }

    /**
     * Builds the network with an optimizer attached ({@link RepOptimizer#baselineSgd} for the paper's baselines), in
     * the engine's form.
     *
     * <p>The network is built in the engine's form directly (a fused layer is a GR site in place and draws the same
     * kernel from the seed as the three layers it replaces), so no three-layer copy of the parameters ever exists:
     * at RepOpt-VGG-B1 widths that copy and its Rule of Initialization were 200 MB each at the peak of a run.
     *
     * @param optimizer the optimizer's builder
     * @return the network, ready for {@code fit}
     */
    public ComputationGraph init(RepOptimizer.Builder optimizer) {
        return optimizer.applyTo(engine.apply(conf()));
    }

    /**
     * A conv with PyTorch's padding {@code k / 2} on every side, on the faster engine for its input size
     * ({@link EngineSelectingConvolutionLayer}).
     */
    static ConvolutionLayer conv(int kernel, int stride, int out, boolean bias) {
        return new EngineSelectingConvolutionLayer.Builder(kernel, kernel).stride(stride, stride).padding(kernel / 2, kernel / 2)
                .convolutionMode(ConvolutionMode.Truncate).nOut(out).hasBias(bias)
                .activation(Activation.IDENTITY).cudnnAllowFallback(false).build();
    }

    /**
     * BatchNorm with PyTorch's epsilon and momentum. The running variance keeps DL4J's default encoding
     * ({@code log10(std)}): DL4J 1.0.0-M2.1's JSON reader forces that encoding on any configuration read before its
     * network was initialized, so the other one would not survive {@code toJson()/fromJson()}.
     */
    static BatchNormalization bn() {
        return new BatchNormalization.Builder().eps(BN_EPS).decay(BN_DECAY).cudnnAllowFallback(false).build();
    }

    /** Adds the block's ReLU after {@code input} and returns its name. */
    static String relu(ComputationGraphConfiguration.GraphBuilder g, BlockSpec b, String input) {
        g.addLayer(LayerNames.relu(b.name()), new ActivationLayer(Activation.RELU), input);
        return LayerNames.relu(b.name());
    }

    /** Adds the block's sum of branches and returns its name. */
    static String sum(ComputationGraphConfiguration.GraphBuilder g, BlockSpec b, String... branches) {
        g.addVertex(LayerNames.sum(b.name()), new ElementWiseVertex(ElementWiseVertex.Op.Add), branches);
        return LayerNames.sum(b.name());
    }

    /**
     * Options every family's builder has.
     *
     * @param <M> the model
     * @param <B> the concrete builder
     */
    public abstract static class Builder<M extends VggModel, B extends Builder<M, B>> {
        private final VggSpec spec;
        private DataType dataType = DataType.FLOAT;
        private long seed = DEFAULT_SEED;
        private BlockEngine engine;

        /** @param spec the architecture */
        protected Builder(VggSpec spec) {
            this.spec = Objects.requireNonNull(spec, "spec");
        }

        /** @param t FLOAT (default), DOUBLE for exactness tests, HALF */
        public B dataType(DataType t) {
            this.dataType = Objects.requireNonNull(t, "dataType");
            return self();
        }

        /** @param s initialization seed (default {@value VggModel#DEFAULT_SEED}) */
        public B seed(long s) {
            this.seed = s;
            return self();
        }

        /**
         * @param e how conv-BN-ReLU blocks are computed (default: {@link BlockEngine#defaultFor} the data type)
         */
        public B engine(BlockEngine e) {
            this.engine = Objects.requireNonNull(e, "engine");
            return self();
        }

        /** @return this builder */
        protected abstract B self();

        /** @return the model */
        public abstract M build();
    }

    /**
     * The builder of a family whose only options are the common ones.
     *
     * @param <M> the model
     */
    public static final class SimpleBuilder<M extends VggModel> extends Builder<M, SimpleBuilder<M>> {
        private final Function<SimpleBuilder<M>, M> factory;

        /**
         * @param spec    the architecture
         * @param factory the family's constructor
         */
        SimpleBuilder(VggSpec spec, Function<SimpleBuilder<M>, M> factory) {
            super(spec);
            this.factory = factory;
        }

        @Override
        protected SimpleBuilder<M> self() {
            return this;
        }

        @Override
        public M build() {
            return factory.apply(this);
        }
    }
}
