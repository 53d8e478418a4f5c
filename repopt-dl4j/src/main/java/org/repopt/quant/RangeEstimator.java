package org.repopt.quant;

/**
 * How the clipping range of an activation quantizer is calibrated from the magnitudes {@code |x|} of all elements
 * a quantization point produced over the calibration batches (zeros included; one range per point, that is,
 * per-tensor activation scales).
 */
public sealed interface RangeEstimator permits RangeEstimator.MinMax, RangeEstimator.Percentile {

    /**
     * @param h the magnitudes seen at one quantization point
     * @return the clipping range {@code r}: the quantizer's scale is {@code r / qMax}
     */
    double range(ActivationHistogram h);

    /** The running maximum of {@code |x|}: nothing is clipped, but one outlier stretches the grid for everyone. */
    record MinMax() implements RangeEstimator {
        @Override
        public double range(ActivationHistogram h) {
            return h.max();
        }

        @Override
        public String toString() {
            return "min-max";
        }
    }

    /**
     * The {@code percent}-th percentile of {@code |x|}, read from a histogram (see {@link ActivationHistogram}):
     * values above it are clipped, the rest get a finer grid. The default, 99.99, is the percentile that NVIDIA's
     * pytorch-quantization toolkit uses in its post-training recipe; the RepOpt paper publishes no recipe.
     *
     * @param percent in {@code (0, 100]}; 100 gives the maximum
     */
    record Percentile(double percent) implements RangeEstimator {
        /** The default percentile. */
        public static final double DEFAULT_PERCENT = 99.99;

        /** Validates the percentile. */
        public Percentile {
            if (!(percent > 0 && percent <= 100)) {
                throw new IllegalArgumentException("percentile must be in (0, 100], got " + percent);
            }
        }

        @Override
        public double range(ActivationHistogram h) {
            return h.percentile(percent);
        }

        @Override
        public String toString() {
            return "percentile " + percent;
        }
    }
}
