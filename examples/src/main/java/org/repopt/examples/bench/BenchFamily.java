package org.repopt.examples.bench;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.schedule.FixedSchedule;
import org.repopt.gr.RepOptimizer;
import org.repopt.model.RepOptVgg;
import org.repopt.nn.BlockEngine;
import org.repopt.train.ModelFamily;
import org.repopt.train.Trainer;

import java.util.Locale;

/** What the benchmark trains: the four families of the paper's speed comparison. */
public enum BenchFamily {
    /** RepOpt-VGG with the RepOptimizer (Grad Mult hook, L2, PyTorch-style Nesterov SGD). */
    REPOPT("repopt"),
    /** The same plain VGG with DL4J's stock Nesterovs and L2: what the Grad Mult costs. */
    NESTEROVS("nesterovs"),
    /** RepVGG, three branches per block. */
    REPVGG("repvgg"),
    /** The Hyper-Search (CSLA) model with trainable scales. */
    HS("hs");

    /** Learning rate of every family (its value does not change the cost). */
    static final double LR = 0.01;
    static final double MOMENTUM = 0.9;
    static final double WEIGHT_DECAY = 4e-5;

    private final String key;

    BenchFamily(String key) {
        this.key = key;
    }

    /** @return the key in the JSON output, e.g. {@code repopt} */
    public String key() {
        return key;
    }

    /**
     * @param preset the architecture and scales
     * @param seed   initialization seed
     * @param engine how conv-BN-ReLU blocks are computed (RepOpt-VGG and Nesterovs; RepVGG and HS have none)
     * @return the family's network, ready to train
     */
    public ComputationGraph network(Preset preset, long seed, BlockEngine engine) {
        switch (this) {
            case REPOPT:
                return withLearningRate(engine.applyReplacing(ModelFamily.REPOPT_VGG.network(preset.spec(),
                        DataType.FLOAT, seed, preset.scales(), MOMENTUM, WEIGHT_DECAY)));
            case NESTEROVS:
                return RepOptVgg.builder(preset.spec()).seed(seed).engine(engine).build().init(
                        RepOptimizer.baselineSgd().updater(new Nesterovs(LR, MOMENTUM))
                                .weightDecay(WEIGHT_DECAY));
            case REPVGG:
                return withLearningRate(ModelFamily.REPVGG.network(preset.spec(), DataType.FLOAT, seed, null,
                        MOMENTUM, WEIGHT_DECAY));
            default:
                return withLearningRate(ModelFamily.HS.network(preset.spec(), DataType.FLOAT, seed, null, MOMENTUM,
                        WEIGHT_DECAY));
        }
    }

    /**
     * The families' networks carry a placeholder rate (the Trainer's schedule sets it); the benchmark sets its own as
     * the Trainer does (DL4J's {@code setLearningRate} would hold a second updater state for a moment, at the peak
     * that the memory probe measures).
     */
    private static ComputationGraph withLearningRate(ComputationGraph net) {
        Trainer.installSchedule(net, new FixedSchedule(LR));
        return net;
    }

    /** @return the family of this key */
    public static BenchFamily parse(String key) {
        for (BenchFamily f : values()) {
            if (f.key.equals(key.toLowerCase(Locale.ROOT))) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown family '" + key + "'; known: repopt, nesterovs, repvgg, hs");
    }
}
