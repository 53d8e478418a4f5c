package org.repopt.train;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The training loss became NaN or infinite. The run stopped at once; no checkpoint was written after the bad
 * update, so the last good checkpoint (if any epoch completed) can be resumed or inspected.
 */
public final class TrainingDivergedException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    private final int epoch;
    private final int iteration;
    private final double loss;
    private final transient Path lastGoodCheckpoint;

    /**
     * @param epoch              1-based epoch of the bad batch
     * @param iteration          0-based DL4J iteration (update index) of the bad batch
     * @param loss               the non-finite loss
     * @param lastGoodCheckpoint the checkpoint of the last completed epoch, or {@code null} when none completed
     */
    public TrainingDivergedException(int epoch, int iteration, double loss, Path lastGoodCheckpoint) {
        super("training loss is " + loss + " at epoch " + epoch + ", iteration " + iteration
                + "; stopped. Last good checkpoint: " + (lastGoodCheckpoint == null
                ? "none (no epoch completed)" : lastGoodCheckpoint)
                + ". Lower the learning rate or check the input data for NaN/Inf.");
        this.epoch = epoch;
        this.iteration = iteration;
        this.loss = loss;
        this.lastGoodCheckpoint = lastGoodCheckpoint;
    }

    /** @return 1-based epoch of the bad batch */
    public int epoch() {
        return epoch;
    }

    /** @return 0-based DL4J iteration of the bad batch */
    public int iteration() {
        return iteration;
    }

    /** @return the non-finite loss */
    public double loss() {
        return loss;
    }

    /** @return the checkpoint of the last completed epoch, if any */
    public Optional<Path> lastGoodCheckpoint() {
        return Optional.ofNullable(lastGoodCheckpoint);
    }
}
