package org.repopt.quant;

import java.util.Objects;

/**
 * The options of the INT8 post-training quantization simulation ({@link Int8Ptq}). The RepOpt paper reports INT8
 * PTQ results but never published its recipe, so the defaults follow common toolkits, as cited per field.
 *
 * @param weights            weight scales per tensor or per output channel; default {@link Granularity#PER_CHANNEL},
 *                           the TensorRT / pytorch-quantization default for convolution weights
 * @param calibrationBatches how many batches of the calibration iterator are observed, {@code >= 1}; default
 *                           {@value #DEFAULT_CALIBRATION_BATCHES}, the count of PyTorch's static-quantization tutorial
 * @param activations        how activation ranges are read from the observations; default the 99.99th percentile
 *                           ({@link RangeEstimator.Percentile#DEFAULT_PERCENT}), pytorch-quantization's recipe
 * @param grid               activation grids; default {@link ActivationGrid#UNSIGNED_AFTER_RELU}
 */
public record PtqConfig(Granularity weights, int calibrationBatches, RangeEstimator activations,
                        ActivationGrid grid) {

    /** The default number of calibration batches. */
    public static final int DEFAULT_CALIBRATION_BATCHES = 32;

    /** Validates the options. */
    public PtqConfig {
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(activations, "activations");
        Objects.requireNonNull(grid, "grid");
        if (calibrationBatches < 1) {
            throw new IllegalArgumentException("calibrationBatches must be >= 1, got " + calibrationBatches);
        }
    }

    /** @return the defaults: per-channel weights, 32 calibration batches, 99.99th percentile, unsigned after ReLU */
    public static PtqConfig defaults() {
        return new PtqConfig(Granularity.PER_CHANNEL, DEFAULT_CALIBRATION_BATCHES,
                new RangeEstimator.Percentile(RangeEstimator.Percentile.DEFAULT_PERCENT),
                ActivationGrid.UNSIGNED_AFTER_RELU);
    }

    /**
     * @param g weight granularity
     * @return a copy with it
     */
    public PtqConfig withWeights(Granularity g) {
        return new PtqConfig(g, calibrationBatches, activations, grid);
    }

    /**
     * @param n calibration batches
     * @return a copy with it
     */
    public PtqConfig withCalibrationBatches(int n) {
        return new PtqConfig(weights, n, activations, grid);
    }

    /**
     * @param e activation range estimator
     * @return a copy with it
     */
    public PtqConfig withActivations(RangeEstimator e) {
        return new PtqConfig(weights, calibrationBatches, e, grid);
    }

    /**
     * @param g activation grids
     * @return a copy with it
     */
    public PtqConfig withGrid(ActivationGrid g) {
        return new PtqConfig(weights, calibrationBatches, activations, g);
    }

    @Override
    public String toString() {
        return "weights " + (weights == Granularity.PER_CHANNEL ? "per-channel" : "per-tensor")
                + " symmetric int8, activations 8-bit "
                + (grid == ActivationGrid.SIGNED ? "signed" : "unsigned after ReLU") + ", " + activations + " over "
                + calibrationBatches + " calibration batches";
    }
}
