package org.repopt.gr;

import java.util.Objects;

/**
 * One conv layer whose kernel Gradient Re-parameterization can train as a CSLA block (docs/METHOD.md): a square odd
 * {@code k x k} kernel at stride 1 or 2, dilation 1, "same"-size padding, linear output, feeding exactly one batch
 * normalization. Found by {@link GrSites#find}; never built by hand.
 *
 * <p>The block's branches: the {@code k x k} conv (scale {@code scale_conv}), a 1x1 conv ({@code scale_1x1}; only
 * where {@link #oneByOnePossible()}, i.e. groups 1) and the identity ({@code scale_identity}; only where
 * {@link #identityPossible()}, i.e. {@code in == out} and stride 1).
 *
 * @param layer       the conv layer's name (for a {@code MultiLayerConfiguration}, {@link MultiLayerAsGraph#layerName})
 * @param kind        which DL4J layer holds the kernel
 * @param batchNorm   the name of the {@code BatchNormalization} layer the conv feeds; for a fused conv-BN-ReLU layer,
 *                    the layer itself
 * @param kernel      {@code k} (odd, at least 3)
 * @param stride      1 or 2 (the same along both axes)
 * @param inChannels  input channels
 * @param outChannels output channels
 * @param groups      1, or {@code inChannels} for a depthwise conv
 */
public record GrSite(String layer, Kind kind, String batchNorm, int kernel, int stride, int inChannels,
                     int outChannels, int groups) {

    /** The DL4J layer types that can hold a re-parameterized kernel. */
    public enum Kind {
        /** DL4J's {@code ConvolutionLayer} (or a subclass that only changes how it computes), groups 1. */
        CONVOLUTION,
        /** DL4J's {@code DepthwiseConvolution2D}, depth multiplier 1, no bias: groups = channels. */
        DEPTHWISE,
        /** The project's fused {@code ConvBnReluLayer}: conv, batch norm and ReLU in one layer, groups 1. */
        FUSED_CONV_BN_RELU
    }

    public GrSite {
        Objects.requireNonNull(layer, "layer");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(batchNorm, "batchNorm");
        if (kernel < 3 || kernel % 2 == 0) {
            throw new IllegalArgumentException("layer '" + layer + "': kernel " + kernel + ", expected an odd k >= 3");
        }
        if (stride != 1 && stride != 2) {
            throw new IllegalArgumentException("layer '" + layer + "': stride " + stride + ", expected 1 or 2");
        }
        boolean dw = kind == Kind.DEPTHWISE;
        if (dw ? groups != inChannels || outChannels != inChannels : groups != 1) {
            throw new IllegalArgumentException("layer '" + layer + "': " + kind + " with groups " + groups + " and "
                    + inChannels + "->" + outChannels + " channels");
        }
    }

    /** @return whether the kernel is depthwise (groups = channels) */
    public boolean depthwise() {
        return kind == Kind.DEPTHWISE;
    }

    /** @return whether the CSLA block can have an identity branch: {@code in == out} and stride 1 */
    public boolean identityPossible() {
        return BlockScales.hasIdentityBranch(inChannels, outChannels, stride);
    }

    /** @return whether the CSLA block can have a 1x1 branch: groups 1 (a depthwise block has none) */
    public boolean oneByOnePossible() {
        return groups == 1;
    }

    /** @return input channels per group: {@code inChannels} for groups 1, 1 for a depthwise conv */
    public int inPerGroup() {
        return inChannels / groups;
    }

    /**
     * @return the kernel's shape in DL4J's parameter layout: {@code [out, in, k, k]}, or {@code [k, k, C, 1]} for
     * a {@code DepthwiseConvolution2D}
     */
    public long[] kernelShape() {
        return depthwise() ? new long[]{kernel, kernel, inChannels, 1}
                : new long[]{outChannels, inChannels, kernel, kernel};
    }

    /** @return the branches a CSLA block on this site may have, e.g. {@code 3x3 + 1x1 + identity} */
    public String branches() {
        return kernel + "x" + kernel + (oneByOnePossible() ? " + 1x1" : "") + (identityPossible() ? " + identity" : "");
    }

    /** @return one line: {@code conv1: ConvolutionLayer 3x3/s1 16->16 -> bn1, branches 3x3 + 1x1 + identity} */
    public String describe() {
        return layer + ": " + (depthwise() ? "depthwise " : "") + kernel + "x" + kernel + "/s" + stride + " "
                + inChannels + "->" + outChannels + (kind == Kind.FUSED_CONV_BN_RELU ? " (fused conv-BN-ReLU)"
                : " -> " + batchNorm) + ", branches " + branches();
    }
}
