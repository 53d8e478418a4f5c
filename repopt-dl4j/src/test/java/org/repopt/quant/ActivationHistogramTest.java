package org.repopt.quant;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ActivationHistogramTest {

    @Test
    void percentileBracketsTheExactPercentileWithinOneBin() {
        Random r = new Random(3);
        ActivationHistogram h = new ActivationHistogram();
        double[][] batches = new double[5][];
        int total = 0;
        for (int b = 0; b < batches.length; b++) {
            // Growing ranges force the bins to merge several times; half the values are ReLU zeros.
            batches[b] = new double[20_000];
            for (int i = 0; i < batches[b].length; i++) {
                batches[b][i] = r.nextBoolean() ? 0 : Math.abs(r.nextGaussian()) * Math.pow(3, b);
            }
            h.add(batches[b]);
            total += batches[b].length;
        }
        double[] all = new double[total];
        int k = 0;
        for (double[] b : batches) {
            for (double v : b) {
                all[k++] = v;
            }
        }
        Arrays.sort(all);
        assertEquals(all[all.length - 1], h.max(), 0);
        assertEquals(total, h.count());
        assertTrue(h.binWidth() < 2 * h.max() / ActivationHistogram.BINS, "bin width " + h.binWidth());
        for (double p : new double[]{50, 90, 99, 99.9, 99.99, 100}) {
            double exact = all[(int) Math.ceil(p / 100 * total) - 1];
            double est = h.percentile(p);
            assertTrue(est >= exact && est <= exact + h.binWidth(),
                    "p" + p + ": estimate " + est + ", exact " + exact + ", bin width " + h.binWidth());
        }
        assertEquals(h.max(), new RangeEstimator.MinMax().range(h), 0);
        assertEquals(h.percentile(99.99), new RangeEstimator.Percentile(99.99).range(h), 0);
    }

    @Test
    void zerosBeforeTheFirstNonZeroBatchAreCounted() {
        ActivationHistogram h = new ActivationHistogram();
        h.add(new double[]{0, 0, 0});
        assertEquals(0, h.percentile(100));
        h.add(new double[]{-4, 0, 0, 0});
        assertEquals(4, h.max());
        // 6 of 7 values are zero: the 80th percentile is in bin 0.
        assertEquals(h.binWidth(), h.percentile(80), 0);
        assertEquals(4, h.percentile(100));
    }

    @Test
    void badInputIsRefused() {
        ActivationHistogram h = new ActivationHistogram();
        assertTrue(assertThrows(IllegalStateException.class, () -> h.percentile(50)).getMessage().contains("empty"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> h.add(new double[]{1, Double.POSITIVE_INFINITY}))
                .getMessage().contains("Infinity is not finite"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new RangeEstimator.Percentile(0))
                .getMessage().contains("(0, 100], got 0.0"));
    }
}
