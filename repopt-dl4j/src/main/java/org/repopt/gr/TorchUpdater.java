package org.repopt.gr;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What {@link TorchSgd} and {@link TorchAdam} share: a learning rate that is either constant or a schedule, with
 * DL4J's conventions for setting it; an updater restored from its state map; value semantics and text over the
 * learning rate and the updater's own {@link #settings()}. The fields keep their JSON names, so saved configurations
 * read as before.
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

    /**
     * @return the updater's own hyper-parameters (the learning rate aside), by name, in the order {@link #toString()}
     *         shows them; with the learning rate they make the updater's value
     */
    abstract Map<String, Object> settings();

    /** @return a new running state bound to this configuration, not yet given its arrays */
    abstract GradientUpdater<?> newUpdater();

    @Override
    public GradientUpdater instantiate(Map<String, INDArray> updaterState, boolean initializeStateArrays) {
        GradientUpdater<?> u = newUpdater();
        u.setState(updaterState, initializeStateArrays);
        return u;
    }

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

    @Override
    public final boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (o == null || o.getClass() != getClass()) {
            return false;
        }
        TorchUpdater that = (TorchUpdater) o;
        return Double.compare(learningRate, that.learningRate) == 0
                && Objects.equals(learningRateSchedule, that.learningRateSchedule) && settings().equals(that.settings());
    }

    @Override
    public final int hashCode() {
        List<Object> parts = new ArrayList<>();
        parts.add(Objects.hash(learningRate, learningRateSchedule));
        parts.addAll(settings().values());
        return Objects.hash(parts.toArray());
    }

    /** @return e.g. {@code TorchSgd{lr=0.1, momentum=0.9, nesterov=true}} (the schedule in place of a rate) */
    @Override
    public final String toString() {
        StringBuilder text = new StringBuilder(getClass().getSimpleName()).append("{lr=")
                .append(learningRateSchedule == null ? learningRate : learningRateSchedule);
        settings().forEach((name, value) -> text.append(", ").append(name).append('=').append(value));
        return text.append('}').toString();
    }

    /**
     * The running state of one parameter's updater: its configuration, and the state arrays the subclass keeps.
     *
     * @param <C> the configuration's type
     */
    abstract static class State<C extends TorchUpdater> implements GradientUpdater<C> {
        final C config;

        State(C config) {
            this.config = config;
        }

        @Override
        public C getConfig() {
            return config;
        }
    }
}
