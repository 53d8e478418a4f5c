package org.repopt.train;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.node.ObjectNode;
import org.repopt.io.JsonFormatException;
import org.repopt.model.VggSpec;
import org.repopt.testing.InMemoryImageDataset;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 11: no run lost, no silent wrong result, every error named; and the Trainer's extension points. */
class TrainerReliabilityTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** 3 epochs of 3 batches, no label smoothing, double precision, the default seed. */
    private static TrainConfig config(Path dir) {
        return TrainConfig.builder(dir).epochs(3).batchSize(8).learningRate(0.1).warmupEpochs(1).labelSmoothing(0)
                .progress(false).build();
    }

    private static PrintStream quiet() {
        return new PrintStream(OutputStream.nullOutputStream());
    }

    private static double[] bits(INDArray a) {
        return a.dup().data().asDouble();
    }

    /** Thrown by a listener to interrupt a run after a checkpoint. */
    private static final class Interrupt extends RuntimeException {
        private static final long serialVersionUID = 1L;
    }

    private static void interruptAfter(Path dir, int epoch, InMemoryImageDataset data) {
        Trainer t = new Trainer(config(dir), quiet()).withListener((r, net, checkpoint) -> {
            if (r.epoch() == epoch) {
                throw new Interrupt();
            }
        });
        assertThrows(Interrupt.class, () -> t.train(Nets.repopt(1, 3, 6, DataType.DOUBLE, 42), data));
    }

    // defect 4

    @Test
    void seedZeroGivesTheSameNetworkAndTheSameRunEveryTime(@TempDir Path dir) throws IOException {
        VggSpec spec = VggSpec.builder("tiny").input(1, 6, 6).classes(3).stem(4, 1).stage(1, 4, 2).build();
        ComputationGraph a = ModelFamily.VGG.network(spec, DataType.DOUBLE, 0, null, 0.9, 1e-4);
        ComputationGraph b = ModelFamily.VGG.network(spec, DataType.DOUBLE, 0, null, 0.9, 1e-4);
        assertArrayEquals(bits(a.params()), bits(b.params()), "two builds at seed 0");

        InMemoryImageDataset data = InMemoryImageDataset.tiny(DataType.DOUBLE);
        TrainConfig two = config(dir.resolve("a")).toBuilder().epochs(2).seed(0).build();
        TrainResult first = new Trainer(two, quiet()).train(a, data);
        TrainResult second = new Trainer(TrainConfig.builder(dir.resolve("b")).epochs(2).batchSize(8)
                .learningRate(0.1).warmupEpochs(1).labelSmoothing(0).seed(0).progress(false).build(), quiet())
                .train(b, data);
        assertArrayEquals(bits(first.network().params()), bits(second.network().params()), "two runs at seed 0");
    }

    // defect 3

    @Test
    void aNonFiniteBatchNormStatisticStopsTheRunBeforeItsCheckpoint(@TempDir Path dir) throws IOException {
        TrainConfig noEval = config(dir).toBuilder().evaluateEveryEpoch(false).build();
        int[] epochs = {0};
        EpochFitter poisonSecondEpoch = (net, batches, monitor) -> {
            EpochFitter.LOCAL.fit(net, batches, monitor);
            if (++epochs[0] == 2) {
                net.getLayer("bn0").getParam("log10stdev").putScalar(1, Double.NaN);  // the loss stays finite
            }
        };
        Trainer trainer = new Trainer(noEval, quiet()).withEpochFitter(poisonSecondEpoch);
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class,
                () -> trainer.train(Nets.repopt(1, 3, 6, DataType.DOUBLE, 42), InMemoryImageDataset.tiny(
                        DataType.DOUBLE)));
        Path good = dir.resolve("checkpoint-epoch-0001.zip");
        assertEquals("parameter 'bn0_log10stdev' (a BatchNorm running statistic)", e.nonFiniteState().orElseThrow());
        assertEquals(2, e.epoch());
        assertTrue(Double.isFinite(e.loss()));
        assertEquals(good, e.lastGoodCheckpoint().orElseThrow());
        assertTrue(e.getMessage().contains("training diverged in epoch 2"), e.getMessage());
        assertEquals(good, Trainer.latestCheckpoint(dir).orElseThrow(), "the last good checkpoint stays current");
        assertFalse(Files.exists(dir.resolve("checkpoint-epoch-0002.zip")));
        ComputationGraph restored = ModelSerializer.restoreComputationGraph(good.toFile(), true);
        assertFalse(NonFiniteState.hasNonFinite(restored.params()));
    }

    @Test
    void aLargeLearningRateIsReportedAsDivergenceNotAsAnEvaluationError(@TempDir Path dir) {
        TrainConfig huge = config(dir).toBuilder().learningRate(1e6).warmupEpochs(0).seed(11).build();
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> new Trainer(huge, quiet())
                .train(Nets.repopt(1, 3, 6, DataType.FLOAT, 42), InMemoryImageDataset.tiny(DataType.FLOAT)));
        assertTrue(e.getMessage().contains("Lower the learning rate"), e.getMessage());
        assertFalse(e.getMessage().contains("Cannot perform evaluation"), e.getMessage());
    }

    // defect 7 (and 2: a checkpoint without updater state)

    @Test
    void aDamagedLastCheckpointFallsBackToThePreviousOneAndTheRunEndsExact(@TempDir Path tmp) throws IOException {
        InMemoryImageDataset data = InMemoryImageDataset.tiny(DataType.DOUBLE);
        TrainResult full = new Trainer(config(tmp.resolve("full")), quiet())
                .train(Nets.repopt(1, 3, 6, DataType.DOUBLE, 42), data);
        Path dir = tmp.resolve("damaged");
        interruptAfter(dir, 2, data);
        Path last = dir.resolve("checkpoint-epoch-0002.zip");
        byte[] zip = Files.readAllBytes(last);
        Files.write(last, java.util.Arrays.copyOf(zip, zip.length / 2));    // a truncated copy, say

        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        TrainResult resumed = new Trainer(config(dir).toBuilder().progress(true).build(),
                new PrintStream(progress, true, StandardCharsets.UTF_8)).resume(data);
        String out = progress.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("warning: checkpoint " + last + " has " + zip.length / 2 + " bytes"), out);
        assertTrue(out.contains("resuming from the previous checkpoint " + dir.resolve("checkpoint-epoch-0001.zip")),
                out);
        assertEquals(1, resumed.startEpoch());
        assertArrayEquals(bits(full.network().params()), bits(resumed.network().params()));
    }

    @Test
    void aCheckpointWithoutUpdaterStateIsNotResumed(@TempDir Path dir) throws IOException {
        InMemoryImageDataset data = InMemoryImageDataset.tiny(DataType.DOUBLE);
        interruptAfter(dir, 1, data);
        Path zip = dir.resolve("checkpoint-epoch-0001.zip");
        ComputationGraph trained = ModelSerializer.restoreComputationGraph(zip.toFile(), true);
        ModelSerializer.writeModel(trained, zip.toFile(), false);   // what an export writes
        recordAsIntact(dir, zip);
        CheckpointUnusableException e = assertThrows(CheckpointUnusableException.class,
                () -> new Trainer(config(dir), quiet()).resume(data));
        assertTrue(e.getMessage().contains(zip + " holds no updater state"), e.getMessage());
        assertTrue(e.getMessage().contains("start the run again"), e.getMessage());
    }

    /** Rewrites checkpoint.json so that it records {@code zip}'s current size and hash, as if written so. */
    private static void recordAsIntact(Path dir, Path zip) throws IOException {
        ObjectNode state = (ObjectNode) JSON.readTree(dir.resolve("checkpoint.json").toFile());
        byte[] bytes = Files.readAllBytes(zip);
        try {
            state.put("model_sha256", HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
        state.put("model_bytes", bytes.length);
        Files.write(dir.resolve("checkpoint.json"), JSON.writeValueAsBytes(state));
    }

    @Test
    void whenBothKeptCheckpointsAreDamagedTheErrorNamesBothAndSaysHowToRestart(@TempDir Path dir)
            throws IOException {
        InMemoryImageDataset data = InMemoryImageDataset.tiny(DataType.DOUBLE);
        interruptAfter(dir, 2, data);
        Files.write(dir.resolve("checkpoint-epoch-0002.zip"), new byte[]{1, 2, 3});
        Files.delete(dir.resolve("checkpoint-epoch-0001.zip"));
        String before = Files.readString(dir.resolve("checkpoint.json"));
        CheckpointUnusableException e = assertThrows(CheckpointUnusableException.class,
                () -> new Trainer(config(dir), quiet()).resume(data));
        assertTrue(e.getMessage().contains(dir.resolve("checkpoint-epoch-0002.zip") + " has 3 bytes"),
                e.getMessage());
        assertTrue(e.getMessage().contains(dir.resolve("checkpoint-epoch-0001.zip") + " is missing"),
                e.getMessage());
        assertTrue(e.getMessage().contains("start the run again in an empty folder"), e.getMessage());
        assertEquals(before, Files.readString(dir.resolve("checkpoint.json")), "nothing changed");
        assertThrows(CheckpointUnusableException.class, () -> Trainer.latestCheckpoint(dir));
    }

    @Test
    void aTruncatedCheckpointJsonIsNamed(@TempDir Path dir) throws IOException {
        InMemoryImageDataset data = InMemoryImageDataset.tiny(DataType.DOUBLE);
        interruptAfter(dir, 1, data);
        Path state = dir.resolve("checkpoint.json");
        String text = Files.readString(state);
        Files.writeString(state, text.substring(0, text.length() / 2));
        JsonFormatException e = assertThrows(JsonFormatException.class,
                () -> new Trainer(config(dir), quiet()).resume(data));
        assertTrue(e.getMessage().startsWith(state + ": not valid JSON at line "), e.getMessage());
        assertEquals(state.toString(), e.source());
    }

    // defects 1 and 8: the folder is held for the whole run

    @Test
    void aFolderInUseIsRefusedBeforeAnythingIsWrittenAndNotCalledAStaleRun(@TempDir Path dir) throws IOException {
        InMemoryImageDataset data = InMemoryImageDataset.tiny(DataType.DOUBLE);
        try (RunFolder live = RunFolder.startNew(dir)) {
            live.write("notes.txt", out -> out.write(1));
            Files.write(dir.resolve(Trainer.METRICS_FILE), new byte[0]);   // as a live run in its first epoch has
            RunFolderException e = assertThrows(RunFolderException.class, () -> new Trainer(config(dir), quiet())
                    .train(Nets.baseline(1, 3, 6, DataType.DOUBLE, 1), data));
            assertEquals(RunFolderException.Problem.IN_USE, e.problem());
            assertTrue(e.getMessage().contains("in use by a training run that is still going (pid "
                    + ProcessHandle.current().pid()), e.getMessage());
            assertFalse(e.getMessage().contains("remove it"), e.getMessage());
            assertThrows(RunFolderException.class, () -> new Trainer(config(dir), quiet()).resume(data));
            assertEquals(0, Files.size(dir.resolve(Trainer.METRICS_FILE)), "the refused run wrote nothing");
        }
        RunFolderException stale = assertThrows(RunFolderException.class, () -> new Trainer(config(dir), quiet())
                .train(Nets.baseline(1, 3, 6, DataType.DOUBLE, 1), data));
        assertEquals(RunFolderException.Problem.HOLDS_UNFINISHED_RUN, stale.problem());
        assertTrue(stale.getMessage().contains("of a run without checkpoint; remove it"), stale.getMessage());

        Path file = dir.resolve("notes.txt");
        RunFolderException notAFolder = assertThrows(RunFolderException.class,
                () -> new Trainer(config(file), quiet()).train(Nets.baseline(1, 3, 6, DataType.DOUBLE, 1), data));
        assertEquals(RunFolderException.Problem.NOT_A_FOLDER, notAFolder.problem());
        assertTrue(notAFolder.getMessage().contains(file + " is an existing file; expected a folder"));
    }

    // defect 2: the guard other outputs use

    @Test
    void outputsOntoARunsOwnFilesAreRefused(@TempDir Path dir) throws IOException {
        interruptAfter(dir, 1, InMemoryImageDataset.tiny(DataType.DOUBLE));
        for (String name : List.of("checkpoint-epoch-0001.zip", "checkpoint-epoch-0002.zip", "checkpoint.json",
                Trainer.METRICS_FILE, RunFolder.LOCK_FILE)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> RunFolder.requireNotRunFile(dir.resolve("sub/..").resolve(name)));
            assertTrue(e.getMessage().contains("is a file of the training run in " + dir), e.getMessage());
        }
        RunFolder.requireNotRunFile(dir.resolve("deploy.zip"));
        RunFolder.requireNotRunFile(dir.resolveSibling("elsewhere").resolve("checkpoint-epoch-0001.zip"));
    }

    // the extension points other features plug into

    @Test
    void trainingListenersAndTheEpochFitterPlugIntoTheLoop(@TempDir Path dir) throws IOException {
        List<String> events = new ArrayList<>();
        BaseTrainingListener listener = new BaseTrainingListener() {
            @Override
            public void iterationDone(Model model, int iteration, int epoch) {
                events.add("it" + iteration);
            }

            @Override
            public void onEpochStart(Model model) {
                events.add("start");
            }

            @Override
            public void onEpochEnd(Model model) {
                events.add("end");
            }
        };
        int[] fits = {0};
        EpochFitter counting = (net, batches, monitor) -> {
            fits[0]++;
            EpochFitter.LOCAL.fit(net, batches, monitor);
        };
        ComputationGraph net = Nets.baseline(1, 3, 6, DataType.DOUBLE, 1);
        TrainResult r = new Trainer(config(dir).toBuilder().epochs(2).build(), quiet())
                .withTrainingListeners(listener).withEpochFitter(counting)
                .train(net, InMemoryImageDataset.tiny(DataType.DOUBLE));
        assertEquals(List.of("start", "it0", "it1", "it2", "end", "start", "it3", "it4", "it5", "end"), events);
        assertEquals(2, fits[0]);
        assertEquals(6, r.network().getIterationCount());
        assertTrue(net.getListeners().isEmpty(), "the Trainer's listeners are detached after the run");
    }
}
