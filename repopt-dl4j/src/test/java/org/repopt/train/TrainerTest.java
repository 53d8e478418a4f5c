package org.repopt.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.repopt.data.EpochBatches;
import org.repopt.data.ImageDataset;
import org.repopt.testing.InMemoryImageDataset;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainerTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** 3 epochs of 3 batches (24 examples, batch 8), 1 warm-up epoch, label smoothing 0.1, double precision. */
    private static TrainConfig config(Path dir) {
        return TrainConfig.builder(dir).epochs(3).batchSize(8).learningRate(0.1).warmupEpochs(1).labelSmoothing(0.1)
                .seed(11).progress(false).build();
    }

    private static PrintStream quiet() {
        return new PrintStream(OutputStream.nullOutputStream());
    }

    /** Thrown by a listener to interrupt a run after a checkpoint. */
    private static final class Interrupt extends RuntimeException {
        private static final long serialVersionUID = 1L;
    }

    @Test
    void interruptedAndResumedRunEndsWithTheParametersOfAnUninterruptedOne(@TempDir Path tmp) throws IOException {
        InMemoryImageDataset data = InMemoryImageDataset.tiny(DataType.DOUBLE);
        INDArray initial = Nets.repopt(1, 3, 6, DataType.DOUBLE, 42).params().dup();
        TrainResult full = new Trainer(config(tmp.resolve("full")), quiet())
                .train(Nets.repopt(1, 3, 6, DataType.DOUBLE, 42), data);

        Path dir = tmp.resolve("interrupted");
        Trainer interrupted = new Trainer(config(dir), quiet()).withListener((r, net, checkpoint) -> {
            if (r.epoch() == 1) {
                throw new Interrupt();
            }
        });
        assertThrows(Interrupt.class, () -> interrupted.train(Nets.repopt(1, 3, 6, DataType.DOUBLE, 42), data));
        // a crash between the metrics line and the checkpoint of epoch 2 would leave a line the checkpoint lacks
        Files.write(dir.resolve(Trainer.METRICS_FILE), Files.readAllLines(dir.resolve(Trainer.METRICS_FILE)).get(0)
                .replace("\"epoch\":1", "\"epoch\":2").concat("\n").getBytes(StandardCharsets.UTF_8),
                StandardOpenOption.APPEND);
        TrainResult resumed = new Trainer(config(dir), quiet()).resume(data);

        assertEquals(1, resumed.startEpoch());
        assertEquals(3, resumed.epochs());
        ComputationGraph a = full.network();
        ComputationGraph b = resumed.network();
        assertTrue(Transforms.abs(a.params().sub(initial)).maxNumber().doubleValue() > 1e-3, "training moved");
        assertRelativelyClose(a.params(), b.params(), 1e-10, "parameters");
        assertRelativelyClose(a.getUpdater().getStateViewArray(), b.getUpdater().getStateViewArray(), 1e-10,
                "updater state");
        assertEquals(9, b.getIterationCount());
        assertEquals(3, b.getEpochCount());
        for (int i = 0; i < 3; i++) {
            assertEquals(full.history().get(i).trainLoss(), resumed.history().get(i).trainLoss(),
                    1e-10 * Math.abs(full.history().get(i).trainLoss()), "train loss of epoch " + (i + 1));
        }
        assertEquals(full.finalTest(), resumed.finalTest());

        ComputationGraph saved = ModelSerializer.restoreComputationGraph(resumed.checkpoint().toFile(), true);
        assertRelativelyClose(a.params(), saved.params(), 1e-10, "checkpointed parameters");
        assertEquals(dir.resolve("checkpoint-epoch-0003.zip"), resumed.checkpoint());
        assertEquals(resumed.checkpoint(), Trainer.latestCheckpoint(dir).orElseThrow());
        List<JsonNode> lines = metrics(dir);
        assertEquals(List.of(1, 2, 3), lines.stream().map(n -> n.get("epoch").intValue()).toList());
    }

    private static void assertRelativelyClose(INDArray expected, INDArray actual, double tolerance, String what) {
        assertEquals(DataType.DOUBLE, actual.dataType());
        assertTrue(expected.equalShapes(actual), what + " shapes");
        double scale = Math.max(1e-12, Transforms.abs(expected).maxNumber().doubleValue());
        double diff = Transforms.abs(expected.sub(actual)).maxNumber().doubleValue();
        assertTrue(diff <= tolerance * scale, what + " differ by " + diff + " (max magnitude " + scale + ")");
    }

    @Test
    void nanLossStopsWithTheLastGoodCheckpointIntact(@TempDir Path dir) throws IOException {
        InMemoryImageDataset poisoned = InMemoryImageDataset.tiny(DataType.DOUBLE).withNaN(1, 1);
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class,
                () -> new Trainer(config(dir), quiet()).train(Nets.repopt(1, 3, 6, DataType.DOUBLE, 42), poisoned));
        Path good = dir.resolve("checkpoint-epoch-0001.zip");
        assertEquals(2, e.epoch());
        assertEquals(4, e.iteration(), "epoch 2, second batch, 3 batches per epoch");
        assertTrue(Double.isNaN(e.loss()));
        assertEquals(good, e.lastGoodCheckpoint().orElseThrow());
        assertTrue(e.getMessage().contains("training loss is NaN at epoch 2, iteration 4"), e.getMessage());
        assertTrue(e.getMessage().contains("Last good checkpoint: " + good), e.getMessage());

        ComputationGraph restored = ModelSerializer.restoreComputationGraph(good.toFile(), true);
        assertEquals(3, restored.getIterationCount());
        assertFalse(restored.params().isNaN().any(), "the checkpoint holds the parameters before the NaN");
        assertEquals(good, Trainer.latestCheckpoint(dir).orElseThrow());
        assertEquals(1, metrics(dir).size());

        TrainResult r = new Trainer(config(dir), quiet()).resume(InMemoryImageDataset.tiny(DataType.DOUBLE));
        assertEquals(1, r.startEpoch());
        assertEquals(3, r.epochs());
    }

    @Test
    void nanInTheFirstEpochHasNoCheckpoint(@TempDir Path dir) {
        InMemoryImageDataset poisoned = InMemoryImageDataset.tiny(DataType.DOUBLE).withNaN(0, 0);
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class,
                () -> new Trainer(config(dir), quiet()).train(Nets.repopt(1, 3, 6, DataType.DOUBLE, 42), poisoned));
        assertEquals(0, e.iteration());
        assertTrue(e.lastGoodCheckpoint().isEmpty());
        assertTrue(e.getMessage().contains("none (no epoch completed)"), e.getMessage());
    }

    @Test
    void metricsLinesHoldTheirFields(@TempDir Path dir) throws IOException {
        // 12 classes: top-5 is reported; float data into a double network; test evaluated after the last epoch only
        InMemoryImageDataset data = new InMemoryImageDataset("twelve", 12, 1, 6, 6, 24, 24, DataType.FLOAT, 9);
        TrainConfig config = TrainConfig.builder(dir).epochs(2).batchSize(8).warmupEpochs(1).labelSmoothing(0)
                .evaluateEveryEpoch(false).progress(false).build();
        TrainResult r = new Trainer(config, quiet()).train(Nets.baseline(1, 12, 6, DataType.DOUBLE, 1), data);

        List<JsonNode> lines = metrics(dir);
        assertEquals(2, lines.size());
        Set<String> common = Set.of("epoch", "iterations", "train_loss", "lr", "images_per_sec", "train_seconds",
                "epoch_seconds");
        assertEquals(common, fields(lines.get(0)));
        Set<String> withTest = new HashSet<>(common);
        withTest.addAll(Set.of("test_top1", "test_top5"));
        assertEquals(withTest, fields(lines.get(1)));
        assertEquals(3, lines.get(0).get("iterations").intValue());
        assertEquals(6, lines.get(1).get("iterations").intValue());
        assertEquals(0.1, lines.get(0).get("lr").doubleValue(), 1e-15, "the last warm-up iteration is at base");
        assertEquals(0.0, lines.get(1).get("lr").doubleValue(), 0.0, "the last iteration is at min");
        for (JsonNode n : lines) {
            assertTrue(n.get("train_loss").doubleValue() > 0);
            assertTrue(n.get("images_per_sec").doubleValue() > 0);
            assertTrue(n.get("epoch_seconds").doubleValue() >= n.get("train_seconds").doubleValue());
        }
        double top1 = lines.get(1).get("test_top1").doubleValue();
        double top5 = lines.get(1).get("test_top5").doubleValue();
        assertTrue(top5 >= top1 && top5 <= 1, top1 + " " + top5);
        assertEquals(top1, r.finalTest().top1(), 0.0);
        assertEquals(top5, r.finalTest().top5().orElseThrow(), 0.0);
        assertTrue(r.history().get(0).test().isEmpty());
        for (int i = 0; i < lines.size(); i++) {
            assertEquals(r.history().get(i), EpochResult.fromJson(lines.get(i), "line " + (i + 1)));
        }
    }

    @Test
    void progressGoesToTheGivenStreamOnly(@TempDir Path dir) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        TrainConfig config = config(dir).toBuilder().epochs(2).progress(true).build();
        TrainResult r = new Trainer(config, new PrintStream(bytes, true, StandardCharsets.UTF_8))
                .train(Nets.baseline(1, 3, 6, DataType.DOUBLE, 1), InMemoryImageDataset.tiny(DataType.DOUBLE));
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("\repoch 1/2 ["), out);
        assertTrue(out.contains(" 3/3 loss "), out);
        assertTrue(out.contains(" img/s | ETA "), out);
        assertTrue(out.contains("epoch 2/2: loss "), out);
        assertTrue(out.contains(r.summary()), out);

        ByteArrayOutputStream none = new ByteArrayOutputStream();
        new Trainer(config(dir.resolve("quiet")).toBuilder().epochs(2).build(), new PrintStream(none))
                .train(Nets.baseline(1, 3, 6, DataType.DOUBLE, 1), InMemoryImageDataset.tiny(DataType.DOUBLE));
        assertEquals(0, none.size());
    }

    @Test
    void refusesToOverwriteOrToResumeAnotherRun(@TempDir Path dir) throws IOException {
        InMemoryImageDataset data = InMemoryImageDataset.tiny(DataType.DOUBLE);
        TrainConfig two = config(dir).toBuilder().epochs(2).build();
        String nothing = assertThrows(IllegalStateException.class, () -> new Trainer(two, quiet()).resume(data))
                .getMessage();
        assertTrue(nothing.contains("nothing to resume: " + dir.resolve("checkpoint.json")), nothing);

        new Trainer(two, quiet()).train(Nets.baseline(1, 3, 6, DataType.DOUBLE, 1), data);
        byte[] before = Files.readAllBytes(dir.resolve("checkpoint.json"));
        String again = assertThrows(IllegalStateException.class,
                () -> new Trainer(two, quiet()).train(Nets.baseline(1, 3, 6, DataType.DOUBLE, 1), data)).getMessage();
        assertTrue(again.contains("already holds a run"), again);

        TrainConfig other = two.toBuilder().epochs(4).seed(12).build();
        String mismatch = assertThrows(IllegalStateException.class, () -> new Trainer(other, quiet()).resume(data))
                .getMessage();
        assertTrue(mismatch.contains("cannot resume " + dir.resolve("checkpoint.json")), mismatch);
        assertTrue(mismatch.contains("epochs was 2, now 4"), mismatch);
        assertTrue(mismatch.contains("seed was 11, now 12"), mismatch);

        InMemoryImageDataset bigger = new InMemoryImageDataset("tiny", 3, 1, 6, 6, 32, 12, DataType.DOUBLE, 5);
        String data2 = assertThrows(IllegalStateException.class, () -> new Trainer(two, quiet()).resume(bigger))
                .getMessage();
        assertTrue(data2.contains("another data set (trainExamples was 24, now 32; batchesPerEpoch was 3, now 4)"),
                data2);
        assertEquals(new String(before, StandardCharsets.UTF_8),
                Files.readString(dir.resolve("checkpoint.json")), "refusals change nothing");

        TrainResult done = new Trainer(two, quiet()).resume(data);
        assertEquals(2, done.startEpoch(), "a finished run resumes to its result");
    }

    @Test
    void networkMustFitTheData(@TempDir Path dir) {
        InMemoryImageDataset four = new InMemoryImageDataset("four", 4, 1, 6, 6, 8, 4, DataType.DOUBLE, 1);
        String m = assertThrows(IllegalArgumentException.class, () -> new Trainer(config(dir), quiet())
                .train(Nets.baseline(1, 3, 6, DataType.DOUBLE, 1), four)).getMessage();
        assertTrue(m.contains("output 'out' has 3 units, but data set four has 4 classes"), m);
    }

    @Test
    void aBatchCountOtherThanAnnouncedStopsTheRun(@TempDir Path dir) throws IOException {
        InMemoryImageDataset tiny = InMemoryImageDataset.tiny(DataType.DOUBLE);
        ImageDataset lying = new ImageDataset() {
            @Override
            public String name() {
                return "lying";
            }

            @Override
            public int channels() {
                return tiny.channels();
            }

            @Override
            public int height() {
                return tiny.height();
            }

            @Override
            public int width() {
                return tiny.width();
            }

            @Override
            public int numClasses() {
                return tiny.numClasses();
            }

            @Override
            public java.util.List<String> classNames() {
                return tiny.classNames();
            }

            @Override
            public int trainExamples() {
                return tiny.trainExamples();
            }

            @Override
            public int testExamples() {
                return tiny.testExamples();
            }

            @Override
            public org.repopt.data.DataOptions options() {
                return tiny.options();
            }

            @Override
            public ImageDataset withOptions(org.repopt.data.DataOptions options) {
                return tiny.withOptions(options);
            }

            @Override
            public EpochBatches train(int batchSize, long seed) {
                EpochBatches real = tiny.train(batchSize, seed);
                return new EpochBatches() {
                    @Override
                    public DataSetIterator epoch(int epoch) {
                        return real.epoch(epoch);
                    }

                    @Override
                    public int batchesPerEpoch() {
                        return 2;
                    }

                    @Override
                    public long examples() {
                        return real.examples();
                    }
                };
            }

            @Override
            public DataSetIterator test(int batchSize) {
                return tiny.test(batchSize);
            }
        };
        String m = assertThrows(IllegalStateException.class, () -> new Trainer(config(dir), quiet())
                .train(Nets.baseline(1, 3, 6, DataType.DOUBLE, 1), lying)).getMessage();
        assertTrue(m.contains("epoch 1 of lying gave more than 2 batches, but its EpochBatches announced 2"), m);

        Path other = dir.resolve("other");
        Files.createDirectories(other);
        Files.write(other.resolve(Trainer.METRICS_FILE), new byte[0]);
        String stale = assertThrows(IllegalStateException.class, () -> new Trainer(config(other), quiet())
                .train(Nets.baseline(1, 3, 6, DataType.DOUBLE, 1), tiny)).getMessage();
        assertTrue(stale.contains("metrics.jsonl of a run without checkpoint; remove it"), stale);
    }

    private static List<JsonNode> metrics(Path dir) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve(Trainer.METRICS_FILE))) {
            out.add(JSON.readTree(line));
        }
        return out;
    }

    private static Set<String> fields(JsonNode n) {
        Set<String> s = new HashSet<>();
        n.fieldNames().forEachRemaining(s::add);
        return s;
    }
}
