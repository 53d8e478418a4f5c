package org.repopt.quant;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.repopt.nn.ParamValues;

import java.util.Arrays;

/**
 * The distribution of activation magnitudes {@code |x|} at one quantization point, accumulated over calibration
 * batches in one pass with bounded memory.
 *
 * <p>It keeps the exact maximum and a histogram of {@link #BINS} equal bins over {@code [0, BINS * width)}. The
 * width is set by the first batch with a non-zero value ({@code width = max / BINS}, the largest value landing in
 * the last bin); whenever a later batch exceeds the covered range, adjacent bins are merged pairwise and the width
 * doubles until it fits, so no value is ever dropped and the width stays below {@code 2 * max / BINS} of the
 * final maximum. {@link #percentile} returns the upper edge of the bin where the cumulative count first reaches
 * {@code ceil(p/100 * count)}, capped at the maximum: at least the exact percentile and above it by less than one
 * bin width. Zeros are counted like any value (pytorch-quantization's default, {@code skip_zeros=False}), so on a
 * ReLU output, where about half the values are 0, the 99.99th percentile of all values is roughly the 99.98th of
 * the positive ones.
 */
public final class ActivationHistogram {

    /** The number of bins (the default of NVIDIA pytorch-quantization's histogram calibrator). */
    public static final int BINS = 2048;

    private final long[] counts = new long[BINS];
    private double width;
    private double max;
    private long count;

    /** An empty histogram. */
    public ActivationHistogram() {
    }

    /**
     * Adds every element's magnitude.
     *
     * @param x activations of any shape and data type
     * @throws IllegalArgumentException if an element is not finite
     */
    public void add(INDArray x) {
        add(ParamValues.of(x));
    }

    /**
     * Adds every value's magnitude.
     *
     * @param values activations
     * @throws IllegalArgumentException if a value is not finite
     */
    public void add(double[] values) {
        double batchMax = 0;
        for (double v : values) {
            if (!Double.isFinite(v)) {
                throw new IllegalArgumentException("activation value " + v + " is not finite");
            }
            batchMax = Math.max(batchMax, Math.abs(v));
        }
        if (width == 0 && batchMax > 0) {
            width = batchMax / BINS;
        }
        while (batchMax > width * BINS) {
            mergePairs();
        }
        max = Math.max(max, batchMax);
        for (double v : values) {
            double a = Math.abs(v);
            // Zeros (all values while the width is still unset) belong to bin 0 whatever the width becomes.
            int bin = width == 0 ? 0 : (int) Math.min(BINS - 1, Math.floor(a / width));
            counts[bin]++;
        }
        count += values.length;
    }

    private void mergePairs() {
        for (int i = 0; i < BINS / 2; i++) {
            counts[i] = counts[2 * i] + counts[2 * i + 1];
        }
        Arrays.fill(counts, BINS / 2, BINS, 0);
        width *= 2;
    }

    /** @return the largest magnitude seen (0 when empty) */
    public double max() {
        return max;
    }

    /** @return how many values were added */
    public long count() {
        return count;
    }

    /** @return the current bin width (0 while every value seen is zero) */
    public double binWidth() {
        return width;
    }

    /**
     * @param percent in {@code (0, 100]}
     * @return the upper edge of the bin holding the {@code percent}-th percentile, capped at {@link #max()}
     * @throws IllegalStateException if nothing was added
     */
    public double percentile(double percent) {
        if (!(percent > 0 && percent <= 100)) {
            throw new IllegalArgumentException("percentile must be in (0, 100], got " + percent);
        }
        if (count == 0) {
            throw new IllegalStateException("percentile of an empty histogram");
        }
        long target = (long) Math.ceil(percent / 100.0 * count);
        long cumulative = 0;
        for (int i = 0; i < BINS; i++) {
            cumulative += counts[i];
            if (cumulative >= target) {
                return Math.min((i + 1) * width, max);
            }
        }
        return max;
    }
}
