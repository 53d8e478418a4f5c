package org.repopt.quant;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.repopt.nn.ParamValues;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Summary statistics of a weight tensor, the numbers behind the paper's explanation of why RepOpt-VGG quantizes
 * well (deployed kernel std 0.0066 vs 0.0234 for a fused RepVGG-B1): a wide or heavy-tailed distribution makes
 * {@code max|w|}, and so the INT8 step, large relative to typical weights.
 *
 * @param layer          the layer's name (or a label for pooled statistics)
 * @param count          the number of weights
 * @param mean           the mean
 * @param std            the population standard deviation, {@code sqrt(m2)} with {@code m_k = mean((w - mean)^k)}
 * @param maxAbs         {@code max|w|}, which sets the symmetric INT8 per-tensor scale {@code max|w| / 127}
 * @param excessKurtosis {@code m4 / m2^2 - 3}: 0 for a Gaussian, large for heavy tails (outliers)
 */
public record WeightStats(String layer, long count, double mean, double std, double maxAbs, double excessKurtosis) {

    /**
     * @param layer  a name for the result
     * @param tensors the weights, pooled (each in any order)
     * @return their statistics, computed in double with two passes
     * @throws IllegalArgumentException if there are no weights, or all are equal (kurtosis undefined)
     */
    public static WeightStats of(String layer, List<double[]> tensors) {
        long n = 0;
        double sum = 0;
        double maxAbs = 0;
        for (double[] t : tensors) {
            for (double v : t) {
                sum += v;
                maxAbs = Math.max(maxAbs, Math.abs(v));
            }
            n += t.length;
        }
        if (n == 0) {
            throw new IllegalArgumentException("weights of '" + layer + "': no values");
        }
        double mean = sum / n;
        double m2 = 0;
        double m4 = 0;
        for (double[] t : tensors) {
            for (double v : t) {
                double d = (v - mean) * (v - mean);
                m2 += d;
                m4 += d * d;
            }
        }
        m2 /= n;
        m4 /= n;
        if (m2 == 0) {
            throw new IllegalArgumentException("weights of '" + layer + "': all " + n + " values equal " + mean
                    + ", so the kurtosis is undefined");
        }
        return new WeightStats(layer, n, mean, Math.sqrt(m2), maxAbs, m4 / (m2 * m2) - 3);
    }

    /**
     * @param layer a name for the result
     * @param w     the weights
     * @return their statistics
     */
    public static WeightStats of(String layer, double[] w) {
        return of(layer, List.of(w));
    }

    /**
     * @param deploy a plain VGG, normally folded ({@link BnFolding#fold}): the statistics of the kernels that get
     *               quantized
     * @return one entry per convolution kernel in forward order (biases excluded)
     */
    public static List<WeightStats> ofConvLayers(ComputationGraph deploy) {
        List<WeightStats> out = new ArrayList<>();
        for (PlainVgg.Block b : PlainVgg.of(deploy).blocks()) {
            out.add(of(b.conv(), kernel(deploy, b.conv())));
        }
        return out;
    }

    /**
     * @param deploy a plain VGG, normally folded
     * @param label  a name for the result
     * @return the statistics of all convolution kernels pooled together, as one distribution
     */
    public static WeightStats ofAllConvLayers(ComputationGraph deploy, String label) {
        List<double[]> all = new ArrayList<>();
        for (PlainVgg.Block b : PlainVgg.of(deploy).blocks()) {
            all.add(kernel(deploy, b.conv()));
        }
        return of(label, all);
    }

    private static double[] kernel(ComputationGraph g, String conv) {
        return ParamValues.of(g.getLayer(conv).getParam(ConvolutionParamInitializer.WEIGHT_KEY));
    }

    /**
     * @return the per-tensor INT8 step in units of the standard deviation, {@code maxAbs / 127 / std}: how coarse
     * the grid is for a typical weight
     */
    public double int8StepOverStd() {
        return maxAbs / Int8Tensor.Q_MAX / std;
    }

    /** @return one table row: name, count, mean, std, max|w|, excess kurtosis, INT8 step / std */
    public String row() {
        return String.format(Locale.ROOT, "%-24s %10d %12.4e %12.4e %12.4e %10.3f %10.4f", layer, count, mean, std,
                maxAbs, excessKurtosis, int8StepOverStd());
    }

    /** @return the header matching {@link #row()} */
    public static String header() {
        return String.format(Locale.ROOT, "%-24s %10s %12s %12s %12s %10s %10s", "layer", "weights", "mean", "std",
                "max|w|", "ex.kurt", "step/std");
    }
}
