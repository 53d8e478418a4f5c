package org.repopt.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EpochResultTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static EpochResult epoch(int e, Optional<Accuracy> test) {
        return new EpochResult(e, 10 * e, 0.5, 0.05, test, 1200.5, 4.0, 4.5);
    }

    @Test
    void jsonLineRoundTrips() throws Exception {
        EpochResult r = epoch(3, Optional.of(new Accuracy(0.75, OptionalDouble.of(0.95))));
        String line = JSON.writeValueAsString(r.toJson(JSON));
        assertEquals("{\"epoch\":3,\"iterations\":30,\"train_loss\":0.5,\"lr\":0.05,\"test_top1\":0.75,"
                + "\"test_top5\":0.95,\"images_per_sec\":1200.5,\"train_seconds\":4.0,\"epoch_seconds\":4.5}", line);
        assertEquals(r, EpochResult.fromJson(JSON.readTree(line), "m"));
        EpochResult untested = epoch(1, Optional.empty());
        assertEquals(untested, EpochResult.fromJson(JSON.readTree(JSON.writeValueAsString(untested.toJson(JSON))), "m"));
    }

    @Test
    void badJsonIsNamed() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> EpochResult.fromJson(JSON.readTree(
                "{\"epoch\":1,\"iterations\":3,\"train_loss\":0.5,\"lr\":0.1,\"images_per_sec\":1,"
                        + "\"train_seconds\":1,\"epoch_seconds\":1,\"top1\":0.3}"), "metrics.jsonl:4"))
                .getMessage().contains("metrics.jsonl:4: unknown field 'top1'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> EpochResult.fromJson(JSON.readTree(
                "{\"epoch\":0,\"iterations\":3,\"train_loss\":0.5,\"lr\":0.1,\"images_per_sec\":1,"
                        + "\"train_seconds\":1,\"epoch_seconds\":1}"), "metrics.jsonl:1"))
                .getMessage().contains("metrics.jsonl:1: epoch must be >= 1, got 0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> EpochResult.fromJson(JSON.readTree(
                "{\"epoch\":1,\"iterations\":3,\"lr\":0.1,\"images_per_sec\":1,"
                        + "\"train_seconds\":1,\"epoch_seconds\":1}"), "m"))
                .getMessage().contains("m: field 'train_loss' must be a number, got null"));
    }

    @Test
    void valuesAreChecked() {
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new EpochResult(1, 3, Double.NaN, 0.1, Optional.empty(), 1, 1, 1)).getMessage()
                .contains("train_loss must be finite, got NaN"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Accuracy(1.5, OptionalDouble.empty()))
                .getMessage().contains("accuracy top1 must be a fraction in [0, 1], got 1.5"));
        assertEquals("top-1 78.47%, top-5 94.10%", new Accuracy(0.7847, OptionalDouble.of(0.941)).toString());
    }

    @Test
    void resultSummaryAndOrder() {
        ComputationGraph net = Nets.baseline(1, 3, 6, DataType.DOUBLE, 1);
        Accuracy acc = new Accuracy(0.9123, OptionalDouble.empty());
        TrainResult r = new TrainResult(acc, List.of(epoch(1, Optional.empty()), epoch(2, Optional.of(acc))), 1,
                1530.4, 412.04, Path.of("c.zip"), net);
        assertEquals("test top-1 91.23% after 2 epochs, 1530 img/s, wall 412.0 s (resumed after epoch 1)",
                r.summary());
        assertEquals(8.0, r.trainSeconds());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new TrainResult(acc,
                List.of(epoch(2, Optional.of(acc))), 0, 1, 1, Path.of("c.zip"), net)).getMessage()
                .contains("history entry 0 is epoch 2, expected 1"));
    }
}
