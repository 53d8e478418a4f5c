package org.repopt.train;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Training diverged: the loss became NaN or infinite, or (with a loss still finite) a parameter, a BatchNorm running
 * statistic, the updater state or the test predictions did. The run stopped at once; no checkpoint was written after
 * the bad update, so the last good checkpoint (if any epoch completed) can be resumed or inspected.
 */
public final class TrainingDivergedException extends IllegalStateException {

    private static final long serialVersionUID = 1L;
    private static final String ADVICE = "Lower the learning rate or check the input data for NaN/Inf.";

    private final int epoch;
    private final int iteration;
    private final double loss;
    private final String nonFinite;
    private final transient Path lastGoodCheckpoint;

    /**
     * The loss became NaN or infinite.
     *
     * @param epoch              1-based epoch of the bad batch
     * @param iteration          0-based DL4J iteration (update index) of the bad batch
     * @param loss               the non-finite loss
     * @param lastGoodCheckpoint the checkpoint of the last completed epoch, or {@code null} when none completed
     */
    public TrainingDivergedException(int epoch, int iteration, double loss, Path lastGoodCheckpoint) {
        super("training loss is " + loss + " at epoch " + epoch + ", iteration " + iteration + "; stopped. "
                + lastGood(lastGoodCheckpoint) + ". " + ADVICE);
        this.epoch = epoch;
        this.iteration = iteration;
        this.loss = loss;
        this.nonFinite = null;
        this.lastGoodCheckpoint = lastGoodCheckpoint;
    }

    /**
     * An array of the network's state became NaN or infinite while the loss stayed finite.
     *
     * @param epoch              1-based epoch after which the state was checked
     * @param iteration          0-based DL4J iteration of the epoch's last update
     * @param nonFinite          what holds NaN or infinity, e.g. {@code parameter 'stage1.0_bn_var'}
     * @param loss               the epoch's mean loss, finite
     * @param lastGoodCheckpoint the checkpoint of the last completed epoch, or {@code null} when none completed
     */
    public TrainingDivergedException(int epoch, int iteration, String nonFinite, double loss,
                                     Path lastGoodCheckpoint) {
        super("training diverged in epoch " + epoch + " (last update: iteration " + iteration + "): " + nonFinite
                + " holds NaN or infinity, although the loss stayed finite (" + loss + "); stopped without saving "
                + "this epoch. " + lastGood(lastGoodCheckpoint) + ". " + ADVICE);
        this.epoch = epoch;
        this.iteration = iteration;
        this.loss = loss;
        this.nonFinite = nonFinite;
        this.lastGoodCheckpoint = lastGoodCheckpoint;
    }

    private static String lastGood(Path checkpoint) {
        return "Last good checkpoint: " + (checkpoint == null ? "none (no epoch completed)" : checkpoint);
    }

    /** @return 1-based epoch of the bad batch (or of the state check) */
    public int epoch() {
        return epoch;
    }

    /** @return 0-based DL4J iteration of the bad batch (or of the epoch's last update) */
    public int iteration() {
        return iteration;
    }

    /** @return the non-finite loss, or the epoch's finite mean loss when the state diverged first */
    public double loss() {
        return loss;
    }

    /** @return what in the network's state held NaN or infinity, when the loss was still finite */
    public Optional<String> nonFiniteState() {
        return Optional.ofNullable(nonFinite);
    }

    /** @return the checkpoint of the last completed epoch, if any */
    public Optional<Path> lastGoodCheckpoint() {
        return Optional.ofNullable(lastGoodCheckpoint);
    }
}
