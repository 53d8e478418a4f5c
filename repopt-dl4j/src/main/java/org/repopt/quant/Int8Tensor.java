package org.repopt.quant;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.repopt.nn.ParamValues;

import java.util.Arrays;
import java.util.Objects;

/**
 * A weight tensor quantized to symmetric signed 8-bit integers: {@code q = clamp(rint(w / scale), -127, 127)},
 * {@code scale = max|w| / 127} over the whole tensor or over each output channel, zero point 0. Dequantization is
 * {@code w' = q * scale}; every element is off by at most {@code scale / 2} (the grid covers {@code max|w|}
 * exactly, so nothing is clamped). An all-zero tensor or channel has scale 0 and dequantizes to exact zeros.
 * Rounding is to the nearest integer, ties to even (IEEE {@code rint}, as PyTorch and NumPy round).
 */
public final class Int8Tensor {

    /** The largest code: symmetric INT8 uses {@code [-127, 127]} and leaves -128 unused. */
    public static final int Q_MAX = 127;

    private final long[] shape;
    private final Granularity granularity;
    private final byte[] codes;
    private final double[] scales;
    private final long inner;

    private Int8Tensor(long[] shape, Granularity granularity, byte[] codes, double[] scales, long inner) {
        this.shape = shape;
        this.granularity = granularity;
        this.codes = codes;
        this.scales = scales;
        this.inner = inner;
    }

    /**
     * @param w           the weights (any data type; computed in double)
     * @param granularity one scale for the tensor, or one per output channel
     * @param channelAxis the output-channel axis: 0 for a convolution kernel {@code [out, in, kH, kW]}, 1 for a
     *                    dense weight {@code [in, out]}; checked for both granularities
     * @return the quantized tensor
     * @throws IllegalArgumentException if the axis is out of range or a weight is not finite
     */
    public static Int8Tensor quantize(INDArray w, Granularity granularity, int channelAxis) {
        Objects.requireNonNull(granularity, "granularity");
        long[] shape = w.shape();
        if (channelAxis < 0 || channelAxis >= shape.length) {
            throw new IllegalArgumentException("channel axis " + channelAxis + " is out of range for a weight of shape "
                    + Arrays.toString(shape));
        }
        double[] v = ParamValues.of(w);
        int channels = granularity == Granularity.PER_CHANNEL ? (int) shape[channelAxis] : 1;
        long inner = 1;
        if (granularity == Granularity.PER_CHANNEL) {
            for (int d = channelAxis + 1; d < shape.length; d++) {
                inner *= shape[d];
            }
        }
        double[] maxAbs = new double[channels];
        for (int i = 0; i < v.length; i++) {
            if (!Double.isFinite(v[i])) {
                throw new IllegalArgumentException("weight of shape " + Arrays.toString(shape) + " has a non-finite "
                        + "value " + v[i] + " at flat index " + i);
            }
            int c = channel(i, inner, channels);
            maxAbs[c] = Math.max(maxAbs[c], Math.abs(v[i]));
        }
        double[] scales = new double[channels];
        for (int c = 0; c < channels; c++) {
            scales[c] = maxAbs[c] / Q_MAX;
        }
        byte[] codes = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            double s = scales[channel(i, inner, channels)];
            codes[i] = s == 0 ? 0 : (byte) Math.max(-Q_MAX, Math.min(Q_MAX, Math.rint(v[i] / s)));
        }
        return new Int8Tensor(shape.clone(), granularity, codes, scales, inner);
    }

    private static int channel(long flatIndex, long inner, int channels) {
        return (int) ((flatIndex / inner) % channels);
    }

    /**
     * @param type the data type of the result
     * @return {@code q * scale}, in the original shape
     */
    public INDArray dequantize(DataType type) {
        double[] v = new double[codes.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = codes[i] * scales[channel(i, inner, scales.length)];
        }
        return Nd4j.create(v, shape, 'c').castTo(type);
    }

    /** @return the shape of the tensor (a copy) */
    public long[] shape() {
        return shape.clone();
    }

    /** @return the granularity of the scales */
    public Granularity granularity() {
        return granularity;
    }

    /** @return the integer codes in c order, each in {@code [-127, 127]} (a copy) */
    public byte[] codes() {
        return codes.clone();
    }

    /** @return the scales: one (per-tensor) or one per output channel (a copy) */
    public double[] scales() {
        return scales.clone();
    }

    /**
     * @param flatIndex an element's index in c order
     * @return the scale that element was quantized with
     */
    public double scaleOf(long flatIndex) {
        if (flatIndex < 0 || flatIndex >= codes.length) {
            throw new IllegalArgumentException("flat index " + flatIndex + " is out of range [0, " + codes.length
                    + ")");
        }
        return scales[channel(flatIndex, inner, scales.length)];
    }

    @Override
    public String toString() {
        return "Int8Tensor{shape=" + Arrays.toString(shape) + ", " + granularity + ", " + scales.length + " scale(s)}";
    }
}
