package org.repopt.model;

/**
 * One ghost module of RepOpt-GhostNet ({@code RepOptGhostModule} of the reference code): a primary 1x1 conv + BN
 * [+ ReLU] to {@code channels}, then the cheap operation, a depthwise 3x3 conv of those channels whose
 * re-parameterized identity ("fusion") branch lives in the optimizer, and a final BN [+ ReLU].
 *
 * @param name         the reference's module path, e.g. {@code blocks.6.1.ghost2}: the {@code block} of its scales
 * @param in           input channels of the primary conv
 * @param channels     output channels of the primary conv, and channels (= groups) of the cheap depthwise conv
 * @param relu         whether the primary conv and the module end with a ReLU ({@code ghost1}) or not ({@code ghost2})
 * @param stageModules the reference's {@code num_stage_modules}: position of the module in its run of
 *                     shape-preserving bottlenecks, which sets its Hyper-Search starting scale
 */
public record GhostModuleSpec(String name, int in, int channels, boolean relu, int stageModules) {

    /** Kernel size of the cheap depthwise conv ({@code dw_size} of the reference). */
    public static final int CHEAP_KERNEL = 3;

    /** Validates the fields. */
    public GhostModuleSpec {
        if (in < 1 || channels < 1 || stageModules < 1) {
            throw new IllegalArgumentException("ghost module " + name + ": channels and stage position must be >= 1, got "
                    + in + "->" + channels + ", position " + stageModules);
        }
    }

    /**
     * The Hyper-Search starting value of the cheap operation's scale, {@code sqrt(2 / (num_stage_modules + 1))}
     * (the reference's {@code scale_init}, following the RepOpt-VGG rule); the fusion scale starts at 1.
     *
     * @return the initial {@code scale_conv}
     */
    public double initialCheapScale() {
        return Math.sqrt(2.0 / (stageModules + 1));
    }

    /** @return e.g. {@code blocks.0.0.ghost1 (8->4, dw 4)} */
    public String describe() {
        return name + " (" + in + "->" + channels + ", dw " + channels + ")";
    }
}
