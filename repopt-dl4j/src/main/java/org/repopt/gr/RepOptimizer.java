package org.repopt.gr;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.learning.regularization.L2Regularization;
import org.nd4j.linalg.learning.regularization.Regularization.ApplyStep;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.linalg.learning.regularization.WeightDecay;
import org.nd4j.linalg.schedule.ISchedule;
import org.repopt.backend.OneDnnHelpers;
import org.repopt.nn.ConvBnReluFusion;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The one-line entry point: switches an existing DL4J network, a {@code ComputationGraph} or a
 * {@code MultiLayerNetwork} (or their configurations), to RepOptimizer training.
 *
 * <pre>{@code
 * ComputationGraph net = RepOptimizer.sgd(ScalesFile.released("B1"))
 *         .learningRate(0.1).momentum(0.9).weightDecay(4e-5).applyTo(conf);
 * MultiLayerNetwork mln = RepOptimizer.sgd(scales).mapByBlockName().applyTo(multiLayerConf);
 * }</pre>
 *
 * <p>What it does (Ding et al., ICLR 2023; docs/METHOD.md, "The update in DL4J's pipeline"):
 * <ol>
 *   <li>assigns each block's scales to one GR site ({@link GrSites}: a conv feeding a BatchNorm, dense or
 *       depthwise, odd kernel), by forward order (default) or by name ({@link ScaleAssignment});</li>
 *   <li>gives every layer the same updater (default {@link TorchSgd}, Nesterov, as the paper; any DL4J
 *       {@code IUpdater} may replace it);</li>
 *   <li>SGD form: gives each assigned kernel one {@link GradMultHook} that carries the L2 term, so
 *       {@code d = grad * M + wd * W} before the updater in one pass over the kernel (the same numbers as the list
 *       {@code [GradMultHook, L2Regularization(wd)]}); with {@link TorchSgd} that pass is folded into the updater's
 *       step ({@link GradMultHook#sgdInTorchSgdStep}, followed by a {@link GradMultStepCheck}); other conv and dense
 *       weights get {@code L2(wd)}; BN parameters and biases get nothing. AdamW form:
 *       {@code [GradMultHook(before), GradMultHook(after), WeightDecay(wd, lr-scaled)]} with {@link TorchAdam};</li>
 *   <li>refuses gradient normalization or clipping, which breaks the equivalence;</li>
 *   <li>initializes the network and applies the Rule of Initialization ({@link Reinit}) unless
 *       {@link Builder#fineTune()} is set.</li>
 * </ol>
 * Everything it attaches is part of the configuration, so it survives JSON and {@code ModelSerializer}. A
 * {@code MultiLayerNetwork} goes through the same code as its chain-shaped graph ({@link MultiLayerAsGraph}), with its
 * layers named as DL4J names them ({@code layer0, layer1, ...} unless the layer has its own name).
 *
 * <p>Global state: {@link OneDnnHelpers#enable()} switches DL4J's oneDNN helpers on where the backend has them (one log
 * line, once; nothing on a backend without oneDNN). The Rule of Initialization draws from a generator of its own
 * ({@link Reinit}), so the caller's ND4J generator is neither re-seeded nor advanced; {@code init()} seeds ND4J's
 * generator from the configuration's seed, as DL4J always does. Nothing else outside the returned network is touched.
 */
public final class RepOptimizer {

    /** The paper's ImageNet learning rate for batch 256 (docs/METHOD.md, "Training recipe"). */
    public static final double DEFAULT_LEARNING_RATE = 0.1;
    /** The paper's weight decay (docs/METHOD.md, "Training recipe"). */
    public static final double DEFAULT_WEIGHT_DECAY = 4e-5;
    /** A common AdamW weight decay. */
    public static final double DEFAULT_ADAMW_WEIGHT_DECAY = 0.05;
    /** A common AdamW learning rate. */
    public static final double DEFAULT_ADAMW_LEARNING_RATE = 1e-3;

    private RepOptimizer() {
    }

    /**
     * @param scales every block's scales, in forward order
     * @return a builder for the SGD form (power 2, exact)
     */
    public static Builder sgd(List<BlockScales> scales) {
        return new Builder(GradMult.Form.SGD, nonEmpty(scales));
    }

    /**
     * @param scales a scales file
     * @return a builder for the SGD form (power 2, exact)
     */
    public static Builder sgd(ScalesFile scales) {
        return sgd(scales.blocks());
    }

    /**
     * @param scales every block's scales, in forward order
     * @return a builder for the AdamW form (power 1, approximate)
     */
    public static Builder adamw(List<BlockScales> scales) {
        return new Builder(GradMult.Form.ADAMW, nonEmpty(scales));
    }

    /**
     * @param scales a scales file
     * @return a builder for the AdamW form (power 1, approximate)
     */
    public static Builder adamw(ScalesFile scales) {
        return adamw(scales.blocks());
    }

    /**
     * The SGD recipe ({@link #sgd}'s updater and weight-decay rule) with no Grad Mult and no re-initialization: how
     * the paper trains its baselines (plain VGG with SGD, RepVGG, the Hyper-Search model), so that they differ from
     * RepOpt-VGG only in the structural prior.
     *
     * @return a builder whose {@code applyTo} attaches no Grad Mult
     */
    public static Builder baselineSgd() {
        return new Builder(GradMult.Form.SGD, List.of());
    }

    /**
     * The AdamW counterpart of {@link #baselineSgd()}: {@link #adamw}'s updater and weight-decay rule with no Grad
     * Mult and no re-initialization.
     *
     * @return a builder whose {@code applyTo} attaches no Grad Mult
     */
    public static Builder baselineAdamw() {
        return new Builder(GradMult.Form.ADAMW, List.of());
    }

    private static List<BlockScales> nonEmpty(List<BlockScales> scales) {
        if (scales == null || scales.isEmpty()) {
            throw new IllegalArgumentException("no block scales given; RepOptimizer.baselineSgd() trains without Grad Mult");
        }
        return scales;
    }

    /** How blocks find their conv layers. */
    private enum Mapping { FORWARD_ORDER, LAYER_NAMES, BLOCK_NAMES }

    /** Hyper-parameters and options; {@code applyTo} is the terminal call. Not thread-safe. */
    public static final class Builder {
        private final GradMult.Form form;
        private final List<BlockScales> scales;
        private double learningRate;
        private ISchedule schedule;
        private double momentum = TorchSgd.DEFAULT_MOMENTUM;
        private boolean nesterov = true;
        private double beta1 = TorchAdam.DEFAULT_BETA1;
        private double beta2 = TorchAdam.DEFAULT_BETA2;
        private double epsilon = TorchAdam.DEFAULT_EPSILON;
        private double weightDecay;
        private IUpdater updater;
        private Mapping mapping = Mapping.FORWARD_ORDER;
        private Map<String, String> layerOfBlock;
        private Long seed;
        private boolean fineTune;

        private Builder(GradMult.Form form, List<BlockScales> scales) {
            this.form = form;
            this.scales = List.copyOf(Objects.requireNonNull(scales, "scales"));
            boolean sgd = form == GradMult.Form.SGD;
            this.learningRate = sgd ? DEFAULT_LEARNING_RATE : DEFAULT_ADAMW_LEARNING_RATE;
            this.weightDecay = sgd ? DEFAULT_WEIGHT_DECAY : DEFAULT_ADAMW_WEIGHT_DECAY;
        }

        /** @return the block scales this builder attaches, in forward order (empty for a baseline) */
        public List<BlockScales> scales() {
            return scales;
        }

        /** @param lr a constant learning rate, {@code > 0} */
        public Builder learningRate(double lr) {
            this.learningRate = Hyperparameters.learningRate(lr);
            this.schedule = null;
            return this;
        }

        /** @param lrSchedule a learning-rate schedule (per iteration or per epoch) */
        public Builder learningRate(ISchedule lrSchedule) {
            this.schedule = Objects.requireNonNull(lrSchedule, "lrSchedule");
            return this;
        }

        /** @param m momentum in {@code [0, 1)} (SGD form; Nesterov needs {@code m > 0}) */
        public Builder momentum(double m) {
            this.momentum = Hyperparameters.momentum(m);
            return this;
        }

        /** @param on Nesterov momentum, the paper's choice (SGD form) */
        public Builder nesterov(boolean on) {
            this.nesterov = on;
            return this;
        }

        /** Adam betas (AdamW form), each in {@code [0, 1)}. */
        public Builder betas(double b1, double b2) {
            Hyperparameters.betas(b1, b2);
            this.beta1 = b1;
            this.beta2 = b2;
            return this;
        }

        /** @param eps PyTorch-style Adam epsilon (AdamW form), finite and {@code > 0} */
        public Builder epsilon(double eps) {
            this.epsilon = Hyperparameters.epsilon(eps);
            return this;
        }

        /** @param wd L2 (SGD form) or decoupled (AdamW form) weight decay of conv kernels and dense weights, {@code >= 0} */
        public Builder weightDecay(double wd) {
            Hyperparameters.weightDecay(wd);
            this.weightDecay = wd;
            return this;
        }

        /**
         * Replaces the default updater. The SGD form accepts {@link Sgd}, {@link Nesterovs} and {@link TorchSgd},
         * the momentum methods under which the equivalence is exact; the AdamW form accepts {@link TorchAdam}
         * and {@link Adam}. Learning rate and momentum setters do not apply to an updater given here.
         */
        public Builder updater(IUpdater u) {
            Objects.requireNonNull(u, "updater");
            boolean ok = form == GradMult.Form.SGD
                    ? u instanceof Sgd || u instanceof Nesterovs || u instanceof TorchSgd
                    : u instanceof TorchAdam || u instanceof Adam;
            if (!ok) {
                throw new IllegalArgumentException("updater " + u.getClass().getSimpleName() + " does not keep the "
                        + form + "-form equivalence; use " + (form == GradMult.Form.SGD
                        ? "Sgd, Nesterovs or TorchSgd" : "TorchAdam or Adam"));
            }
            this.updater = u.clone();
            return this;
        }

        /** Assign the i-th block to the network's i-th GR site in forward order (the default). */
        public Builder mapByForwardOrder() {
            this.mapping = Mapping.FORWARD_ORDER;
            return this;
        }

        /** @param blockToLayer block name to conv layer name, one entry per block */
        public Builder mapByName(Map<String, String> blockToLayer) {
            this.mapping = Mapping.LAYER_NAMES;
            this.layerOfBlock = Map.copyOf(blockToLayer);
            return this;
        }

        /**
         * Assign each block to the conv layer that carries the block's own name: how scales searched on the user's own
         * network are keyed (for a {@code MultiLayerNetwork}, {@link MultiLayerAsGraph#layerName}).
         */
        public Builder mapByBlockName() {
            this.mapping = Mapping.BLOCK_NAMES;
            return this;
        }

        /** @param s seed of the fresh 1x1 kernels of the Rule of Initialization (default: the network's seed) */
        public Builder seed(long s) {
            this.seed = s;
            return this;
        }

        /** Keep the network's weights (no re-initialization), and accept trained or restored networks. */
        public Builder fineTune() {
            this.fineTune = true;
            return this;
        }

        /**
         * Returns a copy of {@code conf} that trains with the RepOptimizer. It does not re-initialize (a
         * configuration holds no weights): prefer {@link #applyTo(ComputationGraphConfiguration)}, or call
         * {@link Reinit#apply} on the network yourself.
         *
         * @param conf a VGG-style configuration built with input types
         * @return the new configuration
         */
        public ComputationGraphConfiguration configure(ComputationGraphConfiguration conf) {
            return configure(conf, assign(conf));
        }

        private ComputationGraphConfiguration configure(ComputationGraphConfiguration conf,
                                                        ScaleAssignment assignment) {
            ComputationGraphConfiguration out = conf.clone();
            IUpdater u = updater != null ? updater : defaultUpdater();
            for (Map.Entry<String, GraphVertex> e : out.getVertices().entrySet()) {
                if (!(e.getValue() instanceof LayerVertex)) {
                    continue;
                }
                org.deeplearning4j.nn.conf.layers.Layer layer = ((LayerVertex) e.getValue()).getLayerConf().getLayer();
                if (!(layer instanceof BaseLayer)) {
                    continue;
                }
                BaseLayer base = (BaseLayer) layer;
                GradientNormalization gn = base.getGradientNormalization();
                if (gn != null && gn != GradientNormalization.None) {
                    throw new IllegalArgumentException("layer '" + e.getKey() + "' uses gradient normalization " + gn
                            + ", which breaks the Gradient Re-parameterization equivalence; remove it");
                }
                base.setIUpdater(u.clone());
                base.setBiasUpdater(null);
                base.setRegularizationBias(new ArrayList<>());
                base.setRegularization(layer instanceof BatchNormalization ? new ArrayList<>()
                        : weightRegularization(assignment.scalesOf(e.getKey()), u));
            }
            return out;
        }

        /**
         * Configures, initializes and (unless {@link #fineTune()}) re-initializes a network.
         *
         * @param conf a VGG-style configuration built with input types, whose 3x3 convs feed BatchNorm layers
         * @return the network, ready for {@code fit}
         */
        public ComputationGraph applyTo(ComputationGraphConfiguration conf) {
            return build(conf, null);
        }

        /**
         * Returns a new network with the RepOptimizer attached and {@code net}'s parameters (updater state is
         * reset), re-initialized unless {@link #fineTune()}. {@code net} itself is not changed.
         *
         * @param net an initialized network: fresh from {@code init()}, or anything when fine-tuning
         * @return the new network
         * @throws IllegalStateException when re-initializing a network that is not fresh
         */
        public ComputationGraph applyTo(ComputationGraph net) {
            if (reinitializes()) {
                // A fused conv-BN-ReLU layer is a GR site in place (its kernel is its conv's, under the same name);
                // only the freshness check needs the three-layer form, to see the batch norms' state.
                Reinit.requireFresh(ConvBnReluFusion.unfuse(net));
            }
            return build(net.getConfiguration(), net.params().dup());
        }

        /**
         * {@link #configure(ComputationGraphConfiguration)} for a {@code MultiLayerConfiguration}: layers are named as
         * {@link MultiLayerAsGraph#layerName} says, and only layer configurations change.
         *
         * @param conf a configuration built with an input type, whose GR convs feed BatchNorm layers
         * @return the new configuration
         */
        public MultiLayerConfiguration configure(MultiLayerConfiguration conf) {
            return MultiLayerAsGraph.toMultiLayer(configure(MultiLayerAsGraph.toGraph(conf)), conf);
        }

        /**
         * {@link #applyTo(ComputationGraphConfiguration)} for a {@code MultiLayerConfiguration}.
         *
         * @param conf a configuration built with an input type, whose GR convs feed BatchNorm layers
         * @return the network, initialized, re-initialized unless {@link #fineTune()}, ready for {@code fit}
         */
        public MultiLayerNetwork applyTo(MultiLayerConfiguration conf) {
            return build(conf, null);
        }

        /**
         * {@link #applyTo(ComputationGraph)} for a {@code MultiLayerNetwork}: a new network with the RepOptimizer
         * attached and {@code net}'s parameters (updater state reset), re-initialized unless {@link #fineTune()};
         * {@code net} itself is not changed.
         *
         * @param net an initialized network: fresh from {@code init()}, or anything when fine-tuning
         * @return the new network
         * @throws IllegalStateException when re-initializing a network that is not fresh
         */
        public MultiLayerNetwork applyTo(MultiLayerNetwork net) {
            if (reinitializes()) {
                Reinit.requireFresh(net);
            }
            return build(net.getLayerWiseConfigurations(), net.params().dup());
        }

        /** The graph path's steps on the network's chain: scales assigned and layers configured by layer name. */
        private MultiLayerNetwork build(MultiLayerConfiguration conf, INDArray params) {
            OneDnnHelpers.enable();
            ComputationGraphConfiguration chain = MultiLayerAsGraph.toGraph(conf);
            ScaleAssignment assignment = assign(chain);
            MultiLayerNetwork net = new MultiLayerNetwork(
                    MultiLayerAsGraph.toMultiLayer(configure(chain, assignment), conf));
            if (params == null) {
                net.init();
            } else {
                net.init(params, true);
            }
            if (reinitializes()) {
                Reinit.apply(net, assignment.byLayer(), reinitSeed(chain));
            }
            return net;
        }

        /** Configures, initializes (with {@code params} where given) and re-initializes unless fine-tuning. */
        private ComputationGraph build(ComputationGraphConfiguration conf, INDArray params) {
            OneDnnHelpers.enable();
            ScaleAssignment assignment = assign(conf);
            ComputationGraphConfiguration configured = configure(conf, assignment);
            ComputationGraph net = new ComputationGraph(configured);
            if (params == null) {
                net.init();
            } else {
                net.init(params, true);
            }
            if (reinitializes()) {
                Reinit.apply(net, assignment, reinitSeed(configured));
            }
            return net;
        }

        private boolean reinitializes() {
            return !fineTune && !scales.isEmpty();
        }

        private long reinitSeed(ComputationGraphConfiguration conf) {
            return seed != null ? seed : conf.getDefaultConfiguration().getSeed();
        }

        private ScaleAssignment assign(ComputationGraphConfiguration conf) {
            if (scales.isEmpty()) {
                return ScaleAssignment.none();
            }
            switch (mapping) {
                case LAYER_NAMES:
                    return ScaleAssignment.byName(conf, scales, layerOfBlock);
                case BLOCK_NAMES:
                    return ScaleAssignment.byBlockName(conf, scales);
                default:
                    return ScaleAssignment.byForwardOrder(conf, scales);
            }
        }

        private IUpdater defaultUpdater() {
            if (form == GradMult.Form.SGD) {
                return schedule != null ? new TorchSgd(schedule, momentum, nesterov)
                        : new TorchSgd(learningRate, momentum, nesterov);
            }
            return schedule != null ? new TorchAdam(schedule, beta1, beta2, epsilon)
                    : new TorchAdam(learningRate, beta1, beta2, epsilon);
        }

        private List<Regularization> weightRegularization(BlockScales blockScales, IUpdater u) {
            List<Regularization> list = new ArrayList<>();
            if (blockScales != null && form == GradMult.Form.SGD && u instanceof TorchSgd) {
                // d = G * M + wd * W and the momentum step in one pass over the kernel, inside TorchSgd's step;
                // the check fails an update whose updater did not take the Grad Mult (say, replaced in fine-tuning)
                list.add(GradMultHook.sgdInTorchSgdStep(blockScales, weightDecay));
                list.add(new GradMultStepCheck(blockScales.block()));
                return list;
            }
            if (blockScales != null && form == GradMult.Form.SGD && weightDecay > 0) {
                // one pass over the kernel for d = G * M + wd * W, the same numbers as [hook, L2(wd)]
                list.add(GradMultHook.sgdWithL2(blockScales, weightDecay));
                return list;
            }
            if (blockScales != null) {
                list.add(new GradMultHook(blockScales, form, ApplyStep.BEFORE_UPDATER));
                if (form == GradMult.Form.ADAMW) {
                    list.add(new GradMultHook(blockScales, form, ApplyStep.POST_UPDATER));
                }
            }
            if (weightDecay > 0) {
                list.add(form == GradMult.Form.SGD ? new L2Regularization(weightDecay)
                        : new WeightDecay(weightDecay, true));
            }
            return list;
        }
    }
}
