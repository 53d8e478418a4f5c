package org.repopt.train;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.repopt.model.CslaVgg;
import org.repopt.model.VggSpec;
import org.repopt.testing.InMemoryImageDataset;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * The training process {@link FaultInjectionTest} starts and kills: a tiny RepOpt-VGG (Grad Mult, Nesterov momentum
 * state, BatchNorm) on a tiny in-memory data set, at the default seed, 4 epochs of 3 batches.
 *
 * <pre>
 * java ... FaultInjectionChild train DIR              a fresh run; prints "iteration N" after each update
 * java ... FaultInjectionChild finish REF DIR...      an uninterrupted run into REF, then resumes each DIR to its
 *                                                     end, one after the other
 * </pre>
 */
public final class FaultInjectionChild {

    /** Epochs of the run. */
    static final int EPOCHS = 4;
    /** Updates per epoch: 24 examples in batches of 8. */
    static final int ITERATIONS_PER_EPOCH = 3;
    /** What a run prints after each update, followed by the update's index. */
    static final String ITERATION = "iteration ";

    private static final VggSpec SPEC = VggSpec.builder("fault").input(1, 6, 6).classes(3).stem(4, 1)
            .stage(1, 4, 2).build();

    private FaultInjectionChild() {
    }

    static TrainConfig config(Path dir) {
        return TrainConfig.builder(dir).epochs(EPOCHS).batchSize(8).learningRate(0.1).warmupEpochs(1)
                .labelSmoothing(0.1).progress(false).build();      // the default seed
    }

    static ComputationGraph network() {
        return ModelFamily.REPOPT_VGG.network(SPEC, DataType.DOUBLE, TrainConfig.DEFAULT_SEED,
                CslaVgg.initialScales(SPEC), 0.9, 1e-4);
    }

    /**
     * @param args {@code train DIR} or {@code finish REF DIR...}
     * @throws Exception when training fails (the exit code is then non-zero)
     */
    public static void main(String[] args) throws Exception {
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        InMemoryImageDataset data = InMemoryImageDataset.tiny(DataType.DOUBLE);
        if ("train".equals(args[0])) {
            BaseTrainingListener announce = new BaseTrainingListener() {
                @Override
                public void iterationDone(Model model, int iteration, int epoch) {
                    System.out.println(ITERATION + iteration);
                    System.out.flush();
                }
            };
            new Trainer(config(Path.of(args[1])), quiet).withTrainingListeners(announce).train(network(), data);
        } else {
            new Trainer(config(Path.of(args[1])), quiet).train(network(), data);
            for (int i = 2; i < args.length; i++) {
                new Trainer(config(Path.of(args[i])), quiet).resume(data);
            }
        }
        System.out.println("done");
    }
}
