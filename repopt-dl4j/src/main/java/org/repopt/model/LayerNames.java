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
}
