package org.repopt.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.repopt.gr.RepOptimizer;
import org.repopt.gr.ScalesFile;
import org.repopt.model.CslaVgg;
import org.repopt.model.GhostNetScales;
import org.repopt.model.GhostNetSpec;
import org.repopt.model.RepOptGhostNet;
import org.repopt.model.RepOptVgg;
import org.repopt.model.RepVgg;
import org.repopt.model.VggModel;
import org.repopt.model.VggSpec;


/**
 * The four ways the paper trains a VGG-style architecture, each a network ready for the {@link Trainer}: the same
 * SGD recipe (Nesterov momentum, L2 on kernels and linear weights), with the structural prior in the optimizer
 * (RepOpt-VGG), in the architecture (RepVGG, the Hyper-Search model) or nowhere (plain VGG); and the two of the
 * reference code's RepOpt-GhostNet ({@link #ghostNet()}: built from a {@link GhostNetSpec}). The learning rate is
 * not the family's: the Trainer's {@link TrainConfig#learningRate()} schedule sets it.
 */
public enum ModelFamily {
    /** RepOpt-VGG: plain VGG, RepOptimizer with searched or released scales. */
    REPOPT_VGG("RepOpt-VGG"),
    /** The same plain VGG with ordinary SGD: the paper's baseline. */
    VGG("VGG"),
    /** RepVGG: three branches per block during training. */
    REPVGG("RepVGG"),
    /** The Hyper-Search model with trainable scales. */
    HS("HS"),
    /** RepOpt-GhostNet: the target ghost network, RepOptimizer with searched or released scales. */
    REPOPT_GHOSTNET("RepOptGhostNet"),
    /** The RepOpt-GhostNet Hyper-Search model: trainable cheap and fusion scales in the ghost modules. */
    GHOSTNET_HS("RepOptGhostNet-HS");

    private final String displayName;

    ModelFamily(String displayName) {
        this.displayName = displayName;
    }

    /** @return the name tables print, e.g. {@code RepOpt-VGG} */
    public String displayName() {
        return displayName;
    }

    /** @return whether the family needs a scales file */
    public boolean needsScales() {
        return this == REPOPT_VGG || this == REPOPT_GHOSTNET;
    }

    /** @return whether the family is RepOpt-GhostNet's, built from a {@link GhostNetSpec} rather than a VggSpec */
    public boolean ghostNet() {
        return this == REPOPT_GHOSTNET || this == GHOSTNET_HS;
    }

    /** @return the family's Hyper-Search family: {@link #HS} or {@link #GHOSTNET_HS} */
    public ModelFamily searchFamily() {
        return ghostNet() ? GHOSTNET_HS : HS;
    }

    private void requireVgg() {
        if (ghostNet()) {
            throw new IllegalArgumentException(displayName + " is built from a GhostNetSpec, not a VggSpec");
        }
    }

    /**
     * @param spec the architecture
     * @param type the network's data type
     * @param seed the initialization seed
     * @return the family's model of that architecture
     */
    public VggModel model(VggSpec spec, DataType type, long seed) {
        requireVgg();
        switch (this) {
            case REPOPT_VGG:
            case VGG:
                return RepOptVgg.builder(spec).dataType(type).seed(seed).build();
            case REPVGG:
                return RepVgg.builder(spec).dataType(type).seed(seed).build();
            default:
                return CslaVgg.builder(spec).dataType(type).seed(seed).build();
        }
    }

    /**
     * Builds the network and attaches the optimizer (the RepOptimizer for RepOpt-VGG, the same recipe without Grad
     * Mult otherwise). Its updaters carry {@link RepOptimizer#DEFAULT_LEARNING_RATE}, a placeholder: the
     * {@link Trainer} installs the run's schedule ({@link TrainConfig#learningRate()}); a caller training without the
     * Trainer sets its own with {@link Trainer#installSchedule} (DL4J's {@code net.setLearningRate(lr)} works too, but
     * holds two copies of the updater state for a moment).
     *
     * @param spec        the architecture
     * @param type        the network's data type
     * @param seed        the initialization seed (every seed, 0 included, gives the same network every time)
     * @param scales      the scales (RepOpt-VGG only; {@code null} otherwise)
     * @param momentum    Nesterov momentum
     * @param weightDecay L2 weight decay of kernels and linear weights
     * @return the network, ready to train
     * @throws IllegalArgumentException where RepOpt-VGG gets no scales, another family gets some, or the scales do
     *                                  not fit the architecture
     */
    public ComputationGraph network(VggSpec spec, DataType type, long seed, ScalesFile scales, double momentum,
                                    double weightDecay) {
        requireVgg();
        if (needsScales() && scales == null) {
            throw new IllegalArgumentException(displayName + " needs scales: a Hyper-Search result or released ones");
        }
        if (!needsScales() && scales != null) {
            throw new IllegalArgumentException(displayName + " takes no scales; only " + REPOPT_VGG.displayName
                    + " trains with them");
        }
        VggModel model = model(spec, type, seed);
        if (this == REPOPT_VGG) {
            return ((RepOptVgg) model).init(RepOptimizer.sgd(scales).momentum(momentum).weightDecay(weightDecay));
        }
        return model.init(RepOptimizer.baselineSgd().momentum(momentum).weightDecay(weightDecay));
    }

    /**
     * @param spec the architecture
     * @param type the network's data type
     * @param seed the initialization seed
     * @return the family's RepOpt-GhostNet model: the target for {@link #REPOPT_GHOSTNET}, the Hyper-Search model for
     * {@link #GHOSTNET_HS}
     * @throws IllegalArgumentException for a VGG family
     */
    public RepOptGhostNet ghostModel(GhostNetSpec spec, DataType type, long seed) {
        if (!ghostNet()) {
            throw new IllegalArgumentException(displayName + " is built from a VggSpec, not a GhostNetSpec");
        }
        RepOptGhostNet.Builder b = RepOptGhostNet.builder(spec).dataType(type).seed(seed);
        return (this == GHOSTNET_HS ? b.search() : b.target()).build();
    }

    /**
     * The RepOpt-GhostNet counterpart of {@link #network(VggSpec, DataType, long, ScalesFile, double, double)}: the
     * target with the RepOptimizer (Grad Mult on the cheap depthwise kernels, Rule of Initialization) for
     * {@link #REPOPT_GHOSTNET}, the Hyper-Search model with the same recipe without Grad Mult for {@link #GHOSTNET_HS}.
     *
     * @param spec        the architecture (any input shape and class count)
     * @param type        the network's data type
     * @param seed        the initialization seed
     * @param scales      the scales (RepOpt-GhostNet only; {@code null} otherwise), of the spec's width
     * @param momentum    Nesterov momentum
     * @param weightDecay L2 weight decay of kernels and linear weights
     * @return the network, ready to train
     * @throws IllegalArgumentException where RepOpt-GhostNet gets no scales, the search model gets some, or the
     *                                  scales do not fit the architecture
     */
    public ComputationGraph network(GhostNetSpec spec, DataType type, long seed, ScalesFile scales,
                                    double momentum, double weightDecay) {
        RepOptGhostNet model = ghostModel(spec, type, seed);
        if (needsScales() && scales == null) {
            throw new IllegalArgumentException(displayName + "-" + spec.name() + " needs scales: a Hyper-Search result "
                    + "or released ones");
        }
        if (!needsScales() && scales != null) {
            throw new IllegalArgumentException(displayName + " takes no scales; only "
                    + REPOPT_GHOSTNET.displayName + " trains with them");
        }
        if (this == REPOPT_GHOSTNET) {
            GhostNetScales.requireFits(scales, spec);
            return model.init(RepOptimizer.sgd(scales).momentum(momentum).weightDecay(weightDecay));
        }
        return RepOptimizer.baselineSgd().momentum(momentum).weightDecay(weightDecay)
                .applyTo(model.conf());
    }
}
