package org.repopt.train;

import org.deeplearning4j.nn.graph.ComputationGraph;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The outcome of {@link Trainer#train} or {@link Trainer#resume}.
 *
 * @param finalTest       test-split accuracy of the final network
 * @param history         every epoch of the run in order, including those of earlier, interrupted sessions
 * @param startEpoch      epochs already done when this session began (0 for a fresh run)
 * @param imagesPerSecond training examples per second over the whole run's training time
 * @param wallSeconds     wall time of this session (training, evaluation, checkpoints)
 * @param checkpoint      the final checkpoint (a {@code ModelSerializer} zip with updater state)
 * @param network         the trained network (the caller's own for {@link Trainer#train}, the restored one for
 *                        {@link Trainer#resume}); compared by identity in {@code equals}
 */
public record TrainResult(Accuracy finalTest, List<EpochResult> history, int startEpoch, double imagesPerSecond,
                          double wallSeconds, Path checkpoint, ComputationGraph network) {

    /**
     * @throws IllegalArgumentException when the history is empty or out of order, or a figure is out of range
     */
    public TrainResult {
        Objects.requireNonNull(finalTest, "finalTest");
        Objects.requireNonNull(checkpoint, "checkpoint");
        Objects.requireNonNull(network, "network");
        history = List.copyOf(history);
        if (history.isEmpty()) {
            throw new IllegalArgumentException("a training result needs at least one epoch in its history");
        }
        for (int i = 0; i < history.size(); i++) {
            if (history.get(i).epoch() != i + 1) {
                throw new IllegalArgumentException("history entry " + i + " is epoch " + history.get(i).epoch()
                        + ", expected " + (i + 1));
            }
        }
        if (startEpoch < 0 || startEpoch > history.size()) {
            throw new IllegalArgumentException("startEpoch must be in [0, " + history.size() + "], got " + startEpoch);
        }
        if (!(imagesPerSecond >= 0) || Double.isInfinite(imagesPerSecond)) {
            throw new IllegalArgumentException("imagesPerSecond must be finite and >= 0, got " + imagesPerSecond);
        }
        if (!(wallSeconds >= 0) || Double.isInfinite(wallSeconds)) {
            throw new IllegalArgumentException("wallSeconds must be finite and >= 0, got " + wallSeconds);
        }
    }

    /** @return epochs of the run */
    public int epochs() {
        return history.size();
    }

    /** @return the summed training time of every epoch, over all sessions */
    public double trainSeconds() {
        return history.stream().mapToDouble(EpochResult::trainSeconds).sum();
    }

    /** @return e.g. {@code test top-1 91.23% after 10 epochs, 1530 img/s, wall 412.0 s} */
    public String summary() {
        return String.format(Locale.ROOT, "test %s after %d epochs, %.0f img/s, wall %.1f s%s", finalTest, epochs(),
                imagesPerSecond, wallSeconds, startEpoch > 0 ? " (resumed after epoch " + startEpoch + ")" : "");
    }
}
