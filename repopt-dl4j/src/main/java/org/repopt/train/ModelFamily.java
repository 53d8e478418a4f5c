package org.repopt.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.repopt.gr.GradMult;
import org.repopt.gr.RepOptimizer;
import org.repopt.gr.ScalesFile;
import org.repopt.model.HyperSearchVgg;
import org.repopt.model.RepOptVgg;
import org.repopt.model.RepVgg;
import org.repopt.model.VggModel;
import org.repopt.model.VggSpec;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The four ways the paper trains a VGG-style architecture, each a network ready for the {@link Trainer}: the same
 * SGD recipe (Nesterov momentum, L2 on kernels and linear weights), with the structural prior in the optimizer
 * (RepOpt-VGG), in the architecture (RepVGG, the Hyper-Search model) or nowhere (plain VGG).
 */
public enum ModelFamily {
    /** RepOpt-VGG: plain VGG, RepOptimizer with searched or released scales. */
    REPOPT_VGG("repopt-vgg", "RepOpt-VGG"),
    /** The same plain VGG with ordinary SGD: the paper's baseline. */
    VGG("vgg", "VGG"),
    /** RepVGG: three branches per block during training. */
    REPVGG("repvgg", "RepVGG"),
    /** The Hyper-Search model with trainable scales. */
    HS("hs", "HS");

    private final String cliName;
    private final String displayName;

    ModelFamily(String cliName, String displayName) {
        this.cliName = cliName;
        this.displayName = displayName;
    }

    /** @return the command-line name, e.g. {@code repopt-vgg} */
    public String cliName() {
        return cliName;
    }

    /** @return the name tables print, e.g. {@code RepOpt-VGG} */
    public String displayName() {
        return displayName;
    }

    /** @return whether the family needs a scales file */
    public boolean needsScales() {
        return this == REPOPT_VGG;
    }

    /**
     * @param spec the architecture
     * @param type the network's data type
     * @param seed the initialization seed
     * @return the family's model of that architecture
     */
    public VggModel model(VggSpec spec, DataType type, long seed) {
        switch (this) {
            case REPOPT_VGG:
            case VGG:
                return RepOptVgg.builder(spec).dataType(type).seed(seed).build();
            case REPVGG:
                return RepVgg.builder(spec).dataType(type).seed(seed).build();
            default:
                return HyperSearchVgg.builder(spec).dataType(type).seed(seed).build();
        }
    }

    /**
     * Builds the network and attaches the optimizer (the RepOptimizer for RepOpt-VGG, the same recipe without Grad
     * Mult otherwise). The {@link Trainer} later installs its learning-rate schedule.
     *
     * @param spec         the architecture
     * @param type         the network's data type
     * @param seed         the initialization seed
     * @param scales       the scales (RepOpt-VGG only; {@code null} otherwise)
     * @param learningRate the base learning rate
     * @param momentum     Nesterov momentum
     * @param weightDecay  L2 weight decay of kernels and linear weights
     * @return the network, ready to train
     * @throws IllegalArgumentException where RepOpt-VGG gets no scales, another family gets some, or the scales do
     *                                  not fit the architecture
     */
    public ComputationGraph network(VggSpec spec, DataType type, long seed, ScalesFile scales, double learningRate,
                                    double momentum, double weightDecay) {
        if (needsScales() && scales == null) {
            throw new IllegalArgumentException(displayName + " needs scales: a Hyper-Search result or released ones");
        }
        if (!needsScales() && scales != null) {
            throw new IllegalArgumentException(displayName + " takes no scales; only " + REPOPT_VGG.displayName
                    + " trains with them");
        }
        VggModel model = model(spec, type, seed);
        if (this == REPOPT_VGG) {
            return ((RepOptVgg) model).init(RepOptimizer.sgd(scales).learningRate(learningRate).momentum(momentum)
                    .weightDecay(weightDecay));
        }
        return model.init(RepOptimizer.baseline(GradMult.Form.SGD).learningRate(learningRate).momentum(momentum)
                .weightDecay(weightDecay));
    }

    /**
     * @param name a command-line name
     * @return the family
     * @throws IllegalArgumentException naming the known families
     */
    public static ModelFamily parse(String name) {
        for (ModelFamily f : values()) {
            if (f.cliName.equals(name.toLowerCase(Locale.ROOT))) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown model '" + name + "'; known: "
                + Arrays.stream(values()).map(ModelFamily::cliName).collect(Collectors.joining(", ")));
    }
}
