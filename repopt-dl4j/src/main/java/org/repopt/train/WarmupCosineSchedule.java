package org.repopt.train;

import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.linalg.schedule.ScheduleType;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Objects;

/**
 * The paper's learning rate per iteration: linear warm-up, then cosine decay to a minimum (docs/METHOD.md#training-recipe;
 * the reference code uses timm's {@code CosineLRScheduler} stepped per iteration, warm-up start 0, min 0).
 *
 * <p>With {@code t} the 0-based index of the update (DL4J's iteration count when the update runs), {@code W}
 * warm-up iterations, {@code N} total iterations and {@code T = max(N - 1, 1)}:
 * <pre>{@code
 * lr(t) = base * (t + 1) / W                                    for t < W        (warm-up)
 * lr(t) = min + (base - min) * 0.5 * (1 + cos(pi * t / T))       for W <= t < N   (cosine)
 * lr(t) = min                                                    for t >= N       (after the run)
 * }</pre>
 * The warm-up rises from {@code base / W} to {@code base} at {@code t = W - 1}; the cosine runs over the whole
 * run's {@code t} (timm's default {@code warmup_prefix=False}), so it starts at {@code t = W} slightly below
 * {@code base}, and the last update {@code t = N - 1} uses exactly {@code min}. Two deliberate differences from
 * the reference: timm's scheduler is stepped after each update, so its update {@code k} uses the value for
 * {@code k - 1} and its first two updates use learning rate 0; here update {@code t} uses {@code lr(t)}, so no
 * update is wasted and the last one reaches {@code min}.
 *
 * <p>The schedule is a {@link ScheduleType#ITERATION} schedule (the epoch argument is ignored), immutable, and
 * part of the network configuration: its class name and JSON property names are part of the saved-model format.
 */
public final class WarmupCosineSchedule implements ISchedule {

    private static final long serialVersionUID = 1L;

    @JsonProperty("baseValue")
    private final double baseValue;
    @JsonProperty("minValue")
    private final double minValue;
    @JsonProperty("warmupIterations")
    private final int warmupIterations;
    @JsonProperty("totalIterations")
    private final int totalIterations;

    /**
     * @param baseValue        the peak learning rate, finite and {@code > 0}
     * @param minValue         the value at the last iteration, finite, {@code 0 <= minValue <= baseValue}
     * @param warmupIterations iterations of linear warm-up, {@code 0 <= warmupIterations < totalIterations}
     * @param totalIterations  iterations of the whole run, {@code >= 1}
     * @throws IllegalArgumentException naming the bad value and what was expected
     */
    @JsonCreator
    public WarmupCosineSchedule(@JsonProperty("baseValue") double baseValue,
                                @JsonProperty("minValue") double minValue,
                                @JsonProperty("warmupIterations") int warmupIterations,
                                @JsonProperty("totalIterations") int totalIterations) {
        if (!(baseValue > 0) || Double.isInfinite(baseValue)) {
            throw new IllegalArgumentException("WarmupCosineSchedule: baseValue must be finite and > 0, got " + baseValue);
        }
        if (!(minValue >= 0 && minValue <= baseValue)) {
            throw new IllegalArgumentException("WarmupCosineSchedule: minValue must be in [0, baseValue=" + baseValue
                    + "], got " + minValue);
        }
        if (totalIterations < 1) {
            throw new IllegalArgumentException("WarmupCosineSchedule: totalIterations must be >= 1, got "
                    + totalIterations);
        }
        if (warmupIterations < 0 || warmupIterations >= totalIterations) {
            throw new IllegalArgumentException("WarmupCosineSchedule: warmupIterations must be in [0, totalIterations="
                    + totalIterations + "), got " + warmupIterations);
        }
        this.baseValue = baseValue;
        this.minValue = minValue;
        this.warmupIterations = warmupIterations;
        this.totalIterations = totalIterations;
    }

    /**
     * The schedule of a run counted in epochs.
     *
     * @param baseValue       the peak learning rate
     * @param minValue        the value at the last iteration
     * @param warmupEpochs    epochs of warm-up
     * @param epochs          epochs of the run
     * @param batchesPerEpoch iterations per epoch, {@code >= 1}
     * @return the schedule with {@code W = warmupEpochs * batchesPerEpoch} and {@code N = epochs * batchesPerEpoch}
     * @throws IllegalArgumentException when a count is out of range or {@code N} exceeds {@code Integer.MAX_VALUE}
     *                                  (DL4J counts iterations in an {@code int})
     */
    public static WarmupCosineSchedule forRun(double baseValue, double minValue, int warmupEpochs, int epochs,
                                              int batchesPerEpoch) {
        if (batchesPerEpoch < 1) {
            throw new IllegalArgumentException("batchesPerEpoch must be >= 1, got " + batchesPerEpoch);
        }
        long total = (long) epochs * batchesPerEpoch;
        long warmup = (long) warmupEpochs * batchesPerEpoch;
        if (total > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("epochs * batchesPerEpoch = " + total
                    + " exceeds DL4J's int iteration count");
        }
        return new WarmupCosineSchedule(baseValue, minValue, (int) warmup, (int) total);
    }

    /** @return {@link ScheduleType#ITERATION}: the value depends on the iteration only */
    public ScheduleType scheduleType() {
        return ScheduleType.ITERATION;
    }

    /** @return the peak learning rate */
    public double baseValue() {
        return baseValue;
    }

    /** @return the learning rate of the last iteration */
    public double minValue() {
        return minValue;
    }

    /** @return iterations of linear warm-up */
    public int warmupIterations() {
        return warmupIterations;
    }

    /** @return iterations of the whole run */
    public int totalIterations() {
        return totalIterations;
    }

    /**
     * @param iteration the 0-based update index {@code t}
     * @param epoch     ignored (an iteration schedule)
     * @return {@code lr(t)} as in the class documentation
     */
    @Override
    public double valueAt(int iteration, int epoch) {
        if (iteration < warmupIterations) {
            return baseValue * (iteration + 1) / warmupIterations;
        }
        if (iteration >= totalIterations) {
            return minValue;
        }
        int period = Math.max(totalIterations - 1, 1);
        return minValue + (baseValue - minValue) * 0.5 * (1 + Math.cos(Math.PI * iteration / period));
    }

    /** @return this immutable schedule */
    @Override
    public WarmupCosineSchedule clone() {
        return this;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof WarmupCosineSchedule)) {
            return false;
        }
        WarmupCosineSchedule that = (WarmupCosineSchedule) o;
        return Double.compare(baseValue, that.baseValue) == 0 && Double.compare(minValue, that.minValue) == 0
                && warmupIterations == that.warmupIterations && totalIterations == that.totalIterations;
    }

    @Override
    public int hashCode() {
        return Objects.hash(baseValue, minValue, warmupIterations, totalIterations);
    }

    @Override
    public String toString() {
        return "WarmupCosineSchedule{base=" + baseValue + ", min=" + minValue + ", warmupIterations="
                + warmupIterations + ", totalIterations=" + totalIterations + "}";
    }
}
