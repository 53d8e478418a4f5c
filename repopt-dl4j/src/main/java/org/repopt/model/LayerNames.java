package org.repopt.model;

/**
 * The one place layer names of the model family come from. A block's layers are named {@code <block>.<role>}, e.g.
 * {@code stage1.0.conv3x3}; names never contain {@code '_'}, which DL4J uses to separate layer and parameter names.
 *
 * <p>No name of a network is a prefix of another one: DL4J's training UI collects a layer's histograms by name
 * prefix, so a {@code conv} next to a {@code conv1x1} would show the 1x1 kernel on the 3x3 conv's page.
 */
public final class LayerNames {

    /** The network input. */
    public static final String INPUT = "input";
    /** Global average pooling. */
    public static final String POOL = "pool";
    /** The linear classifier with softmax output. */
    public static final String LINEAR = "linear";

    private LayerNames() {
    }

    /** @return the block's 3x3 conv (all families) */
    public static String conv(String block) {
        return block + ".conv3x3";
    }

    /** @return the block's 1x1 conv (RepVGG, Hyper-Search) */
    public static String conv1x1(String block) {
        return block + ".conv1x1";
    }

    /** @return the block's only BatchNorm: after the 3x3 conv (RepOpt-VGG), or after the sum (Hyper-Search) */
    public static String bn(String block) {
        return block + ".bn";
    }

    /** @return the BatchNorm of the 3x3 branch (RepVGG) */
    public static String bn3x3(String block) {
        return block + ".bn3x3";
    }

    /** @return the BatchNorm of the 1x1 branch (RepVGG) */
    public static String bn1x1(String block) {
        return block + ".bn1x1";
    }

    /** @return the BatchNorm of the identity branch (RepVGG) */
    public static String bnIdentity(String block) {
        return block + ".bnid";
    }

    /** @return the per-channel scale of the 3x3 branch (Hyper-Search) */
    public static String scaleConv(String block) {
        return block + ".scale-conv";
    }

    /** @return the per-channel scale of the 1x1 branch (Hyper-Search) */
    public static String scale1x1(String block) {
        return block + ".scale-1x1";
    }

    /** @return the per-channel scale of the identity branch (Hyper-Search) */
    public static String scaleIdentity(String block) {
        return block + ".scale-identity";
    }

    /** @return the vertex adding the block's branches (RepVGG, Hyper-Search) */
    public static String sum(String block) {
        return block + ".sum";
    }

    /** @return the block's ReLU */
    public static String relu(String block) {
        return block + ".relu";
    }

    // RepOpt-GhostNet: a ghost module m reuses bn/relu/sum/scaleConv/scaleIdentity for its final BN, ReLU, sum and its
    // two CSLA scales (scale_conv = cheap, scale_identity = fusion); the 1x1 conv + BN + ReLU after the last
    // bottleneck is conv1x1/bn/relu of its block. No name is a prefix of another (DL4J's UI groups by prefix).

    /** The stem block of RepOpt-GhostNet (its 3x3 conv, BN and ReLU: {@code conv}, {@code bn}, {@code relu} of it). */
    public static final String STEM = "stem";
    /** The 1x1 conv head (with bias and ReLU) between global pooling and the classifier of RepOpt-GhostNet. */
    public static final String HEAD = "head";

    /** @return the ghost module's primary 1x1 conv */
    public static String primaryConv(String module) {
        return module + ".primary-conv";
    }

    /** @return the BatchNorm after the ghost module's primary conv */
    public static String primaryBn(String module) {
        return module + ".primary-bn";
    }

    /** @return the ReLU after the ghost module's primary BatchNorm ({@code ghost1} only) */
    public static String primaryRelu(String module) {
        return module + ".primary-relu";
    }

    /** @return the ghost module's cheap operation: the depthwise 3x3 conv that the optimizer re-parameterizes */
    public static String cheapConv(String module) {
        return module + ".cheap";
    }

    /** @return the bottleneck's stride-2 depthwise conv */
    public static String depthwise(String bottleneck) {
        return bottleneck + ".dw-conv";
    }

    /** @return the BatchNorm after the bottleneck's stride-2 depthwise conv */
    public static String depthwiseBn(String bottleneck) {
        return bottleneck + ".dw-bn";
    }

    /** @return the squeeze-and-excitation block's global average pooling */
    public static String sePool(String bottleneck) {
        return bottleneck + ".se-pool";
    }

    /** @return the squeeze-and-excitation block's reducing 1x1 conv (bias, ReLU) */
    public static String seReduce(String bottleneck) {
        return bottleneck + ".se-reduce";
    }

    /** @return the squeeze-and-excitation block's expanding 1x1 conv (bias, hard-sigmoid gate) */
    public static String seExpand(String bottleneck) {
        return bottleneck + ".se-expand";
    }

    /** @return the vertex multiplying the feature map by the squeeze-and-excitation gate */
    public static String seGate(String bottleneck) {
        return bottleneck + ".se-gate";
    }

    /** @return the depthwise conv of a bottleneck's projecting shortcut */
    public static String shortcutDepthwise(String bottleneck) {
        return bottleneck + ".shortcut-dw-conv";
    }

    /** @return the BatchNorm after the shortcut's depthwise conv */
    public static String shortcutDepthwiseBn(String bottleneck) {
        return bottleneck + ".shortcut-dw-bn";
    }

    /** @return the 1x1 conv of a bottleneck's projecting shortcut */
    public static String shortcutConv(String bottleneck) {
        return bottleneck + ".shortcut-pw-conv";
    }

    /** @return the BatchNorm after the shortcut's 1x1 conv */
    public static String shortcutBn(String bottleneck) {
        return bottleneck + ".shortcut-pw-bn";
    }

    /** @return the vertex adding a bottleneck's output and its shortcut */
    public static String residual(String bottleneck) {
        return bottleneck + ".add";
    }
}
