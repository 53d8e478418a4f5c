package org.repopt.quant;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.repopt.nn.ParamValues;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Int8TensorTest {

    /** A conv kernel [out, in, 3, 3] whose output channels have very different magnitudes, as after BN folding. */
    private static INDArray kernel(long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray w = Nd4j.randn(DataType.DOUBLE, 6, 4, 3, 3);
        for (int o = 0; o < 6; o++) {
            w.slice(o).muli(Math.pow(4, o - 3));
        }
        return w;
    }

    @Test
    void roundTripErrorIsAtMostHalfAStepPerElement() {
        for (Granularity g : Granularity.values()) {
            INDArray w = kernel(1);
            Int8Tensor q = Int8Tensor.quantize(w, g, 0);
            double[] orig = ParamValues.of(w);
            double[] back = ParamValues.of(q.dequantize(DataType.DOUBLE));
            byte[] codes = q.codes();
            for (int i = 0; i < orig.length; i++) {
                double s = q.scaleOf(i);
                assertTrue(Math.abs(orig[i] - back[i]) <= s / 2 * (1 + 1e-12),
                        g + " element " + i + ": |w - dq(q(w))| = " + Math.abs(orig[i] - back[i]) + " > scale/2 = "
                                + s / 2);
                assertTrue(codes[i] >= -127 && codes[i] <= 127, "code " + codes[i]);
            }
        }
    }

    @Test
    void perChannelScalesAreNeverCoarserAndTheErrorIsSmaller() {
        INDArray w = kernel(2);
        Int8Tensor t = Int8Tensor.quantize(w, Granularity.PER_TENSOR, 0);
        Int8Tensor c = Int8Tensor.quantize(w, Granularity.PER_CHANNEL, 0);
        double tensorScale = t.scales()[0];
        assertEquals(1, t.scales().length);
        assertEquals(6, c.scales().length);
        assertEquals(w.amaxNumber().doubleValue() / 127, tensorScale, 0);
        for (double s : c.scales()) {
            // Hence the worst-case error bound scale/2 of every element is never larger per channel.
            assertTrue(s <= tensorScale, s + " > " + tensorScale);
        }
        double[] orig = ParamValues.of(w);
        double[] bt = ParamValues.of(t.dequantize(DataType.DOUBLE));
        double[] bc = ParamValues.of(c.dequantize(DataType.DOUBLE));
        int perChannel = orig.length / 6;
        for (int o = 0; o < 6; o++) {
            double maxT = 0;
            double maxC = 0;
            for (int i = o * perChannel; i < (o + 1) * perChannel; i++) {
                maxT = Math.max(maxT, Math.abs(orig[i] - bt[i]));
                maxC = Math.max(maxC, Math.abs(orig[i] - bc[i]));
            }
            // Per element either may win by chance; per channel the max error obeys the tighter bound.
            assertTrue(maxC <= c.scales()[o] / 2 * (1 + 1e-12) && c.scales()[o] <= tensorScale,
                    "channel " + o + ": per-channel max error " + maxC + ", per-tensor " + maxT);
        }
        double mseT = 0;
        double mseC = 0;
        for (int i = 0; i < orig.length; i++) {
            mseT += (orig[i] - bt[i]) * (orig[i] - bt[i]);
            mseC += (orig[i] - bc[i]) * (orig[i] - bc[i]);
        }
        // The largest channel has the same scale both ways; every other one gains.
        assertTrue(mseC < mseT, "per-channel MSE " + mseC + " vs per-tensor " + mseT);
        // The small channels are wiped out per tensor: channel 0 (scale 4^-3) quantizes mostly to 0.
        long zeros = 0;
        byte[] codes = t.codes();
        for (int i = 0; i < perChannel; i++) {
            zeros += codes[i] == 0 ? 1 : 0;
        }
        assertTrue(zeros > perChannel / 2, "per-tensor zeros in channel 0: " + zeros);
    }

    @Test
    void denseWeightsUseTheirColumnAsChannel() {
        // Dense W is [in, out]: per-channel scales are per column.
        INDArray w = Nd4j.create(new double[][]{{1, -20, 0.5}, {-2, 10, 0.25}});
        Int8Tensor q = Int8Tensor.quantize(w, Granularity.PER_CHANNEL, 1);
        assertArrayEquals(new double[]{2.0 / 127, 20.0 / 127, 0.5 / 127}, q.scales(), 0);
        assertArrayEquals(new byte[]{64, -127, 127, -127, 64, 64}, q.codes());
        assertArrayEquals(new long[]{2, 3}, q.shape());
    }

    @Test
    void gridValuesAreExactAndTiesRoundToEven() {
        // max|w| = 127/64, so scale = 1/64 exactly; k/64 round-trips exactly, (k + 1/2)/64 rounds to even.
        double s = 1.0 / 64;
        INDArray w = Nd4j.create(new double[]{127 * s, -3 * s, 0.5 * s, 1.5 * s, 2.5 * s, -2.5 * s, 0});
        Int8Tensor q = Int8Tensor.quantize(w, Granularity.PER_TENSOR, 0);
        assertEquals(s, q.scales()[0], 0);
        assertArrayEquals(new byte[]{127, -3, 0, 2, 2, -2, 0}, q.codes());
        assertArrayEquals(new double[]{127 * s, -3 * s, 0, 2 * s, 2 * s, -2 * s, 0},
                ParamValues.of(q.dequantize(DataType.DOUBLE)), 0);
    }

    @Test
    void anAllZeroChannelStaysZero() {
        INDArray w = Nd4j.create(new double[][]{{0, 0, 0}, {1, -2, 3}});
        Int8Tensor q = Int8Tensor.quantize(w, Granularity.PER_CHANNEL, 0);
        assertEquals(0, q.scales()[0]);
        assertArrayEquals(new double[]{0, 0, 0, 1, -2, 3}, ParamValues.of(q.dequantize(DataType.DOUBLE)),
                3.0 / 127 / 2);
    }

    @Test
    void badInputIsRefused() {
        INDArray w = Nd4j.create(new double[][]{{0, Double.NaN}});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Int8Tensor.quantize(w, Granularity.PER_TENSOR, 0));
        assertTrue(e.getMessage().contains("non-finite value NaN at flat index 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Int8Tensor.quantize(Nd4j.ones(2, 2), Granularity.PER_CHANNEL, 2));
        assertTrue(e.getMessage().contains("channel axis 2 is out of range for a weight of shape [2, 2]"),
                e.getMessage());
    }
}
