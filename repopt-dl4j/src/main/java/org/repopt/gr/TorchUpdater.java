package org.repopt.gr;

import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Objects;

/**
 * What {@link TorchSgd} and {@link TorchAdam} share: a learning rate that is either constant or a schedule, with
 * DL4J's conventions for setting it. The fields keep their JSON names, so saved configurations read as before.
 */
abstract class TorchUpdater implements IUpdater {

    private static final long serialVersionUID = 1L;

    @JsonProperty("learningRate")
    private double learningRate;
    @JsonProperty("learningRateSchedule")
    private ISchedule learningRateSchedule;

    /**
     * @param learningRate the constant learning rate (ignored, and may be NaN, while a schedule is set)
     * @param schedule     the learning rate per iteration or epoch, or {@code null}
     */
    TorchUpdater(double learningRate, ISchedule schedule) {
        setLrAndSchedule(learningRate, schedule);
    }

    @Override
    public abstract TorchUpdater clone();

    /** @return the schedule, or {@code null} for a constant learning rate */
    public ISchedule learningRateSchedule() {
        return learningRateSchedule;
    }

    /** @return the constant learning rate (the schedule's first value while a schedule is set) */
    double fixedLearningRate() {
        return learningRate;
    }

    /** @return a copy of the schedule for a clone of this updater, or {@code null} */
    ISchedule clonedSchedule() {
        return learningRateSchedule == null ? null : learningRateSchedule.clone();
    }

    @Override
    public double getLearningRate(int iteration, int epoch) {
        return learningRateSchedule == null ? learningRate : learningRateSchedule.valueAt(iteration, epoch);
    }

    @Override
    public boolean hasLearningRate() {
        return true;
    }

    /**
     * DL4J's {@code setLearningRate(ISchedule)} passes {@code NaN} as the fixed rate together with the schedule;
     * the schedule then rules, and the fixed rate is kept at the schedule's first value so that the configuration
     * stays valid and reloads from JSON.
     */
    @Override
    public void setLrAndSchedule(double lr, ISchedule lrSchedule) {
        if (lrSchedule == null && (!(lr >= 0) || Double.isInfinite(lr))) {
            throw new IllegalArgumentException("learningRate must be finite and >= 0, got " + lr);
        }
        this.learningRateSchedule = lrSchedule;
        this.learningRate = lrSchedule != null && !Double.isFinite(lr) ? lrSchedule.valueAt(0, 0) : lr;
    }

    /** @return whether {@code other} has the same learning rate and schedule */
    boolean sameLearningRate(TorchUpdater other) {
        return Double.compare(learningRate, other.learningRate) == 0
                && Objects.equals(learningRateSchedule, other.learningRateSchedule);
    }

    /** @return a hash of the learning rate and schedule */
    int learningRateHash() {
        return Objects.hash(learningRate, learningRateSchedule);
    }

    /** @return the schedule, or the constant rate, for {@code toString()} */
    String learningRateText() {
        return String.valueOf(learningRateSchedule == null ? learningRate : learningRateSchedule);
    }
}
