package org.repopt.spark;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.repopt.data.DataOptions;
import org.repopt.data.Datasets;
import org.repopt.data.ImageDataset;
import org.repopt.data.Subset;
import org.repopt.model.VggSpec;
import org.repopt.parallel.TinyRepOptVgg;
import org.repopt.train.EpochFitter;
import org.repopt.train.EpochFitterProvider;
import org.repopt.train.TrainConfig;
import org.repopt.train.TrainResult;
import org.repopt.train.Trainer;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The trainer on Spark ({@code local[2]}) on a Fashion-MNIST subset: the fitter found the way the CLI finds it,
 * checkpoints and {@code metrics.jsonl} as in local training, and an interrupted run resumed on Spark ends with the
 * parameters of an uninterrupted one; resuming under another number of workers is refused.
 */
class SparkTrainerTest {

    private static final VggSpec SPEC = VggSpec.builder("micro").input(1, 28, 28).classes(10).stem(4, 2)
            .stage(1, 8, 2).build();

    private static final class Interrupt extends RuntimeException {
        private static final long serialVersionUID = 1L;
    }

    private static EpochFitter spark(int workers) {
        for (EpochFitterProvider p : ServiceLoader.load(EpochFitterProvider.class)) {
            if (p.name().equals(SparkFitterProvider.NAME)) {
                return p.open("local[2]", workers, 1);
            }
        }
        throw new AssertionError("no EpochFitterProvider named spark on the class path");
    }

    private static TrainConfig config(Path dir) {
        return TrainConfig.builder(dir).epochs(2).batchSize(32).learningRate(0.05).warmupEpochs(1).seed(5)
                .evaluateEveryEpoch(false).progress(false).build();
    }

    private static PrintStream quiet() {
        return new PrintStream(OutputStream.nullOutputStream());
    }

    @Test
    void aRunInterruptedAndResumedOnSparkEndsWithTheParametersOfAnUninterruptedOne(@TempDir Path tmp)
            throws IOException {
        ImageDataset data = Datasets.fashionMnist(null).withOptions(DataOptions.DEFAULTS.withSubset(Subset.first(256)));
        TrainResult whole;
        try (EpochFitter fitter = spark(2)) {
            whole = new Trainer(config(tmp.resolve("whole")), quiet()).withEpochFitter(fitter)
                    .train(TinyRepOptVgg.withGradMult(SPEC, DataType.FLOAT), data);
        }
        assertEquals(2, Files.readAllLines(tmp.resolve("whole").resolve(Trainer.METRICS_FILE)).size());
        assertEquals(16, whole.network().getIterationCount(), "256 / 32 iterations per epoch");
        double first = whole.history().get(0).trainLoss();
        double second = whole.history().get(1).trainLoss();
        assertTrue(second < first, "the training loss fell: " + first + " then " + second);

        Path dir = tmp.resolve("resumed");
        try (EpochFitter fitter = spark(2)) {
            Trainer interrupted = new Trainer(config(dir), quiet()).withEpochFitter(fitter)
                    .withListener((result, net, checkpoint) -> {
                        throw new Interrupt();
                    });
            assertThrows(Interrupt.class,
                    () -> interrupted.train(TinyRepOptVgg.withGradMult(SPEC, DataType.FLOAT), data));
        }
        try (EpochFitter fitter = spark(1)) {
            String m = assertThrows(IllegalStateException.class,
                    () -> new Trainer(config(dir), quiet()).withEpochFitter(fitter).resume(data)).getMessage();
            assertTrue(m.contains("fitter.workers was 2, now 1"), m);
        }
        TrainResult resumed;
        try (EpochFitter fitter = spark(2)) {
            resumed = new Trainer(config(dir), quiet()).withEpochFitter(fitter).resume(data);
        }
        ComputationGraph a = whole.network();
        ComputationGraph b = resumed.network();
        assertEquals(a.params(), b.params(), "parameters after resuming");
        assertEquals(a.getUpdater().getStateViewArray(), b.getUpdater().getStateViewArray(), "updater state");
        assertEquals(whole.finalTest().top1(), resumed.finalTest().top1());
    }
}
