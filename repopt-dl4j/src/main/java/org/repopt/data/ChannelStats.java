package org.repopt.data;

import java.util.Arrays;

/**
 * Per-channel normalization {@code x = (v / 255 - mean[c]) / std[c]} of 8-bit pixels {@code v}, with the figures
 * commonly used for each data set (channels in RGB order).
 */
final class ChannelStats {

    /** Fashion-MNIST training set: mean 0.2860, std 0.3530. */
    static final ChannelStats FASHION_MNIST = new ChannelStats(new double[]{0.2860}, new double[]{0.3530});
    /** CIFAR-10 training set, per-pixel standard deviation. */
    static final ChannelStats CIFAR10 = new ChannelStats(
            new double[]{0.4914, 0.4822, 0.4465}, new double[]{0.2470, 0.2435, 0.2616});
    /** CIFAR-100 training set. */
    static final ChannelStats CIFAR100 = new ChannelStats(
            new double[]{0.5071, 0.4865, 0.4409}, new double[]{0.2673, 0.2564, 0.2762});
    /** ImageNet, as torchvision's reference scripts and the paper's reference code use them. */
    static final ChannelStats IMAGENET = new ChannelStats(
            new double[]{0.485, 0.456, 0.406}, new double[]{0.229, 0.224, 0.225});

    private final double[] mean;
    private final double[] std;
    /** {@code table[c][v]}: the normalized value of byte {@code v} in channel {@code c}, so a pixel costs one load. */
    private final float[][] table;

    ChannelStats(double[] mean, double[] std) {
        if (mean.length != std.length || mean.length == 0) {
            throw new IllegalArgumentException("mean has " + mean.length + " channels, std has " + std.length
                    + "; expected the same positive number");
        }
        this.mean = mean.clone();
        this.std = std.clone();
        this.table = new float[mean.length][256];
        for (int c = 0; c < mean.length; c++) {
            if (!(std[c] > 0) || !Double.isFinite(mean[c])) {
                throw new IllegalArgumentException("channel " + c + ": mean " + mean[c] + ", std " + std[c]
                        + "; expected a finite mean and a positive std");
            }
            for (int v = 0; v < 256; v++) {
                table[c][v] = (float) ((v / 255.0 - mean[c]) / std[c]);
            }
        }
    }

    /** @return the number of channels */
    int channels() {
        return mean.length;
    }

    /** @return the lookup table of channel {@code c}: 256 normalized values indexed by the byte value */
    float[] table(int c) {
        return table[c];
    }

    /** @return the channel means */
    double[] mean() {
        return mean.clone();
    }

    /** @return the channel standard deviations */
    double[] std() {
        return std.clone();
    }

    /** @return the normalization as a formula with its figures (documented in exported models) */
    String formula() {
        return "x[c] = (pixel[c] / 255 - mean[c]) / std[c] on 8-bit pixels, " + this;
    }

    @Override
    public String toString() {
        return "mean " + Arrays.toString(mean) + ", std " + Arrays.toString(std);
    }
}
