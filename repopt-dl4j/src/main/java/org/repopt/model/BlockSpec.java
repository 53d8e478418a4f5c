package org.repopt.model;

import org.repopt.gr.BlockScales;

/**
 * One 3x3 block of a {@link VggSpec}, named as the paper's scales files name it: {@code stage0} for the stem, then
 * {@code stage<s>.<i>} for block {@code i} (0-based) of stage {@code s} (1-based).
 *
 * @param name         the block's name
 * @param stage        0 for the stem, then 1..n
 * @param indexInStage 0-based position inside its stage
 * @param in           input channels
 * @param out          output channels
 * @param stride       1 or 2
 */
public record BlockSpec(String name, int stage, int indexInStage, int in, int out, int stride) {

    /** @return whether the block has an identity branch in its RepVGG and CSLA forms ({@code in == out}, stride 1) */
    public boolean hasIdentity() {
        return BlockScales.hasIdentityBranch(in, out, stride);
    }

    /**
     * The Hyper-Search initial value of {@code scale_conv} and {@code scale_1x1} (docs/METHOD.md#hyper-search-init): 1.0 for the
     * stem and the first block of a stage, {@code sqrt(2 / i)} for block {@code i > 0}.
     *
     * @return the initial scale
     */
    public double initialBranchScale() {
        return stage == 0 || indexInStage == 0 ? 1.0 : Math.sqrt(2.0 / indexInStage);
    }

    /** @return {@code name (in->out, stride s)}, as messages print a block */
    public String describe() {
        return name + " (" + in + "->" + out + ", stride " + stride + ")";
    }
}
