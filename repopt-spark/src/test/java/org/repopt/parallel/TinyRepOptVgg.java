package org.repopt.parallel;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.schedule.ISchedule;
import org.repopt.gr.BlockScales;
import org.repopt.gr.RepOptimizer;
import org.repopt.model.BlockSpec;
import org.repopt.model.RepOptVgg;
import org.repopt.model.VggSpec;
import org.repopt.train.WarmupCosineSchedule;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** A small RepOpt-VGG in double precision and random batches for it: what the data-parallel tests train. */
public final class TinyRepOptVgg {

    /** 3x8x8 input, 3 classes; blocks with and without identity branches, strides 2 and 1. */
    public static final VggSpec SPEC = VggSpec.builder("tiny").input(3, 8, 8).classes(3).stem(4, 2).stage(2, 6, 2)
            .stage(2, 6, 1).build();

    /**
     * A warm-up and cosine schedule over 4 iterations: every step of a test runs at another learning rate, so an
     * engine that loses the iteration count fails.
     */
    private static final ISchedule LEARNING_RATE = WarmupCosineSchedule.forRun(0.1, 0.01, 1, 2, 2);
    private static final double MOMENTUM = 0.9;
    private static final double WEIGHT_DECAY = 1e-3;

    private TinyRepOptVgg() {
    }

    /** @return {@link #SPEC}'s network in double precision with the RepOptimizer */
    public static ComputationGraph withGradMult() {
        return withGradMult(SPEC, DataType.DOUBLE);
    }

    /**
     * @param spec the architecture
     * @param type the network's data type
     * @return the network with the RepOptimizer (Grad Mult from per-channel scales between 0.3 and 1.8)
     */
    public static ComputationGraph withGradMult(VggSpec spec, DataType type) {
        Random r = new Random(3);
        List<BlockScales> scales = new ArrayList<>();
        for (BlockSpec b : spec.blocks()) {
            scales.add(new BlockScales(b.name(), b.in(), b.out(), b.stride(), positive(r, b.out()),
                    positive(r, b.out()), b.hasIdentity() ? positive(r, b.out()) : null));
        }
        return RepOptVgg.builder(spec).dataType(type).seed(11).build().init(RepOptimizer.sgd(scales)
                .learningRate(LEARNING_RATE).momentum(MOMENTUM).weightDecay(WEIGHT_DECAY));
    }

    /**
     * @param like a network of {@link #withGradMult()}
     * @return the same network and optimizer without the Grad Mult, starting from {@code like}'s parameters
     */
    public static ComputationGraph withoutGradMult(ComputationGraph like) {
        ComputationGraph net = RepOptimizer.baselineSgd().learningRate(LEARNING_RATE).momentum(MOMENTUM)
                .weightDecay(WEIGHT_DECAY).applyTo(RepOptVgg.builder(SPEC).dataType(DataType.DOUBLE).seed(11).build()
                        .conf());
        net.setParams(like.params().dup());
        return net;
    }

    private static double[] positive(Random r, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = 0.3 + 1.5 * r.nextDouble();
        }
        return v;
    }

    /**
     * @param count batches
     * @param size  examples per batch
     * @param seed  seed of the features and labels
     * @return reproducible random batches with one-hot labels, in double precision
     */
    public static List<DataSet> batches(int count, int size, long seed) {
        Random r = new Random(seed);
        List<DataSet> out = new ArrayList<>();
        for (int b = 0; b < count; b++) {
            double[] x = new double[size * SPEC.inputChannels() * SPEC.inputHeight() * SPEC.inputWidth()];
            for (int i = 0; i < x.length; i++) {
                x[i] = r.nextGaussian();
            }
            double[] y = new double[size * SPEC.numClasses()];
            for (int i = 0; i < size; i++) {
                y[i * SPEC.numClasses() + r.nextInt(SPEC.numClasses())] = 1;
            }
            out.add(new DataSet(Nd4j.create(x, new long[]{size, SPEC.inputChannels(), SPEC.inputHeight(),
                    SPEC.inputWidth()}, DataType.DOUBLE), Nd4j.create(y, new long[]{size, SPEC.numClasses()},
                    DataType.DOUBLE)));
        }
        return out;
    }
}
