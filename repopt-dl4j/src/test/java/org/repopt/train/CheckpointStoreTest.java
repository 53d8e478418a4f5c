package org.repopt.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CheckpointStoreTest {

    private static CheckpointState state(int epochs) {
        List<EpochResult> history = new ArrayList<>();
        for (int e = 1; e <= epochs; e++) {
            history.add(new EpochResult(e, 3 * e, 1.0 / e, 0.1 / e,
                    e == epochs ? Optional.of(new Accuracy(0.5, OptionalDouble.of(0.9))) : Optional.empty(),
                    100, 0.24, 0.3));
        }
        return new CheckpointState(CheckpointStore.modelFileName(epochs), epochs, 3 * epochs,
                Map.of("epochs", "3", "seed", "0"), Map.of("name", "tiny"), history);
    }

    private static Set<String> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
        }
    }

    @Test
    void aFailureWhileWritingLeavesThePreviousCheckpointIntact(@TempDir Path dir) throws IOException {
        ComputationGraph net = Nets.baseline(1, 3, 6, DataType.DOUBLE, 1);
        CheckpointStore store = new CheckpointStore(dir);
        Path first = store.save(net, state(1));
        byte[] stateBefore = Files.readAllBytes(store.stateFile());
        byte[] modelBefore = Files.readAllBytes(first);
        INDArray paramsBefore = net.params().dup();
        net.params().addi(1.0);

        CheckpointStore failing = new CheckpointStore(dir, (n, out) -> {
            out.write(new byte[4096]);
            throw new IOException("simulated: disk full");
        });
        IOException e = assertThrows(IOException.class, () -> failing.save(net, state(2)));
        assertEquals("simulated: disk full", e.getMessage());
        CheckpointStore crashing = new CheckpointStore(dir, (n, out) -> {
            out.write(new byte[10]);
            throw new IllegalStateException("simulated: writer bug");
        });
        assertThrows(IllegalStateException.class, () -> crashing.save(net, state(2)));

        assertEquals(Set.of("checkpoint.json", "checkpoint-epoch-0001.zip"), files(dir), "no partial or temp file");
        assertArrayEquals(stateBefore, Files.readAllBytes(store.stateFile()));
        assertArrayEquals(modelBefore, Files.readAllBytes(first));
        CheckpointState back = store.read();
        assertEquals(state(1), back);
        assertEquals(paramsBefore, store.loadModel(back).params());

        Path second = store.save(net, state(2));
        // issue 11, defect 7: the previous checkpoint is kept as the fallback of a damaged last one
        assertEquals(Set.of("checkpoint.json", "checkpoint-epoch-0001.zip", "checkpoint-epoch-0002.zip"), files(dir),
                "the last two zips stay");
        assertEquals(state(2), store.read());
        assertEquals(net.params(), store.loadModel(store.read()).params());
        assertEquals(dir.resolve("checkpoint-epoch-0002.zip"), second);
        store.save(net, state(3));
        assertEquals(Set.of("checkpoint.json", "checkpoint-epoch-0002.zip", "checkpoint-epoch-0003.zip"), files(dir),
                "the oldest zip goes last");
    }

    @Test
    void anOrphanOfACrashIsReplacedAndCleanedUp(@TempDir Path dir) throws IOException {
        ComputationGraph net = Nets.baseline(1, 3, 6, DataType.DOUBLE, 1);
        CheckpointStore store = new CheckpointStore(dir);
        store.save(net, state(1));
        // a crash after the zip of epoch 2 but before checkpoint.json named it
        Files.write(dir.resolve("checkpoint-epoch-0002.zip"), new byte[]{1, 2, 3});
        assertEquals(state(1), store.read(), "checkpoint.json still names epoch 1");
        store.save(net, state(2));
        assertEquals(Set.of("checkpoint.json", "checkpoint-epoch-0001.zip", "checkpoint-epoch-0002.zip"), files(dir));
        assertEquals(net.params(), store.loadModel(store.read()).params());
        Files.write(dir.resolve("checkpoint-epoch-0007.zip"), new byte[]{1, 2, 3});
        store.save(net, state(3));
        assertEquals(Set.of("checkpoint.json", "checkpoint-epoch-0002.zip", "checkpoint-epoch-0003.zip"), files(dir),
                "orphans and the oldest zip are cleaned up");
    }

    @Test
    void stateJsonRoundTripsAndBadContentIsNamed(@TempDir Path dir) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        CheckpointState s = state(2);
        assertEquals(s, CheckpointState.fromJson(mapper.readTree(s.toJson(mapper)), "x"));

        String wrongFormat = s.toJson(mapper).replace(CheckpointState.FORMAT, "something-else/9");
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> CheckpointState.fromJson(mapper.readTree(wrongFormat), "f.json")).getMessage()
                .contains("f.json: format is 'something-else/9', expected 'repopt-train-checkpoint/1'"));
        String wrongCount = s.toJson(mapper).replace("\"epochs_completed\" : 2", "\"epochs_completed\" : 3");
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> CheckpointState.fromJson(mapper.readTree(wrongCount), "f.json")).getMessage()
                .contains("f.json: epochs_completed is 3 but the history holds 2 epochs"));
        String badLoss = s.toJson(mapper).replace("\"train_loss\" : 0.5", "\"train_loss\" : \"x\"");
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> CheckpointState.fromJson(mapper.readTree(badLoss), "f.json")).getMessage()
                .contains("f.json history[1]: field 'train_loss' must be a number"));

        CheckpointStore store = new CheckpointStore(dir);
        Files.write(store.stateFile(), s.toJson(mapper).getBytes(StandardCharsets.UTF_8));
        assertTrue(assertThrows(IllegalArgumentException.class, store::read).getMessage()
                .contains("names model file checkpoint-epoch-0002.zip, which does not exist"));
    }
}
