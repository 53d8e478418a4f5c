package org.repopt.train;

import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.node.ObjectNode;
import org.repopt.io.JsonFormatException;
import org.repopt.io.StrictJson;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.function.Supplier;

/**
 * What one epoch did; one line of {@code metrics.jsonl}.
 *
 * <p>JSON form (one object per line, snake_case; {@code test_top1} and {@code test_top5} are absent when not
 * evaluated):
 * <pre>{@code
 * {"epoch":3,"iterations":1407,"train_loss":0.412,"lr":0.0812,"test_top1":0.903,"test_top5":0.998,
 *  "images_per_sec":1530.2,"train_seconds":39.2,"epoch_seconds":41.0}
 * }</pre>
 *
 * @param epoch           1-based epoch number
 * @param iterations      DL4J's iteration count at the end of the epoch (updates since the run began)
 * @param trainLoss       mean over the epoch's examples of the batch loss DL4J reports ({@code net.score()}: data
 *                        loss on the smoothed labels plus the L2 term)
 * @param learningRate    learning rate of the epoch's last update
 * @param test            test-split accuracy, when evaluated after this epoch
 * @param imagesPerSecond training examples per second of {@code trainSeconds}
 * @param trainSeconds    wall time of the training batches (data loading and {@code fit})
 * @param epochSeconds    wall time of the whole epoch: training, evaluation and metrics, before the checkpoint
 */
public record EpochResult(int epoch, int iterations, double trainLoss, double learningRate, Optional<Accuracy> test,
                          double imagesPerSecond, double trainSeconds, double epochSeconds) {

    private static final List<String> FIELDS = List.of("epoch", "iterations", "train_loss", "lr", "test_top1",
            "test_top5", "images_per_sec", "train_seconds", "epoch_seconds");

    /**
     * @throws IllegalArgumentException naming the field whose value is out of range
     */
    public EpochResult {
        if (epoch < 1) {
            throw new IllegalArgumentException("epoch must be >= 1, got " + epoch);
        }
        if (iterations < 1) {
            throw new IllegalArgumentException("iterations must be >= 1, got " + iterations);
        }
        if (!Double.isFinite(trainLoss)) {
            throw new IllegalArgumentException("train_loss must be finite, got " + trainLoss);
        }
        nonNegative("lr", learningRate);
        if (test == null) {
            throw new IllegalArgumentException("test must be Optional.empty() when not evaluated, not null");
        }
        nonNegative("images_per_sec", imagesPerSecond);
        nonNegative("train_seconds", trainSeconds);
        nonNegative("epoch_seconds", epochSeconds);
    }

    private static void nonNegative(String name, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException(name + " must be finite and >= 0, got " + v);
        }
    }

    /**
     * @param epochs epochs of the run
     * @return a one-line summary for logs and the console, e.g.
     * {@code epoch 3/10: loss 0.4120, lr 0.0812, test top-1 90.30%, 1530 img/s, 41.0 s}
     */
    public String summary(int epochs) {
        return String.format(Locale.ROOT, "epoch %d/%d: loss %.4f, lr %.4g, %s%.0f img/s, %.1f s", epoch, epochs,
                trainLoss, learningRate, test.map(a -> "test " + a + ", ").orElse(""), imagesPerSecond, epochSeconds);
    }

    /** @return the JSON object of one {@code metrics.jsonl} line */
    ObjectNode toJson(ObjectMapper mapper) {
        ObjectNode n = mapper.createObjectNode();
        n.put("epoch", epoch);
        n.put("iterations", iterations);
        n.put("train_loss", trainLoss);
        n.put("lr", learningRate);
        test.ifPresent(a -> {
            n.put("test_top1", a.top1());
            a.top5().ifPresent(v -> n.put("test_top5", v));
        });
        n.put("images_per_sec", imagesPerSecond);
        n.put("train_seconds", trainSeconds);
        n.put("epoch_seconds", epochSeconds);
        return n;
    }

    /**
     * Reads the object {@link #toJson} writes.
     *
     * @param n     the object
     * @param where the file and line or entry, for messages
     * @return the epoch result
     * @throws JsonFormatException naming {@code where} and the missing, unknown or bad field
     */
    static EpochResult fromJson(JsonNode n, String where) {
        return fromJson(StrictJson.of(n, where));
    }

    /**
     * @param n one {@code metrics.jsonl} line or {@code checkpoint.json} history entry
     * @return the epoch result
     * @throws JsonFormatException naming the source, the place and the missing, unknown or bad field
     */
    static EpochResult fromJson(StrictJson.Node n) {
        n.requireFields(FIELDS);
        Optional<Accuracy> test = Optional.empty();
        if (n.has("test_top1")) {
            OptionalDouble top5 = n.has("test_top5") ? OptionalDouble.of(n.get("test_top5").number())
                    : OptionalDouble.empty();
            test = Optional.of(checked(n, () -> new Accuracy(n.get("test_top1").number(), top5)));
        } else if (n.has("test_top5")) {
            throw n.get("test_top5").fail("without test_top1", "test_top1 next to test_top5");
        }
        int epoch = n.get("epoch").integer();
        int iterations = n.get("iterations").integer();
        double loss = n.get("train_loss").number();
        double lr = n.get("lr").number();
        double imagesPerSecond = n.get("images_per_sec").number();
        double trainSeconds = n.get("train_seconds").number();
        double epochSeconds = n.get("epoch_seconds").number();
        Optional<Accuracy> evaluated = test;
        return checked(n, () -> new EpochResult(epoch, iterations, loss, lr, evaluated, imagesPerSecond,
                trainSeconds, epochSeconds));
    }

    /** Runs a constructor that validates its values, turning its complaint into one about {@code n}. */
    private static <T> T checked(StrictJson.Node n, Supplier<T> constructor) {
        try {
            return constructor.get();
        } catch (IllegalArgumentException e) {
            throw new JsonFormatException(n.source(), n.path(), null, "values in range", "a value out of range",
                    e.getMessage());
        }
    }
}
