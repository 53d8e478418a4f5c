package org.repopt.model;

/**
 * One bottleneck of RepOpt-GhostNet ({@code RepOptGhostBottleneck} of the reference code):
 * {@code ghost1 (ReLU) -> [depthwise k x k, stride s, + BN] -> [squeeze-and-excitation] -> ghost2 (no ReLU)}, plus
 * the shortcut: the identity where {@code in == out} and stride 1, otherwise depthwise k x k (stride s) + BN +
 * 1x1 conv + BN.
 *
 * @param name        the reference's module path, e.g. {@code blocks.6.1}
 * @param in          input channels
 * @param mid         hidden channels ({@code ghost1}'s output)
 * @param out         output channels
 * @param kernel      kernel size of the stride-2 depthwise conv and of the shortcut's depthwise conv (3 or 5)
 * @param stride      1 or 2
 * @param seChannels  reduced channels of the squeeze-and-excitation block, or 0 where the bottleneck has none
 * @param stageBlocks the reference's {@code num_stage_blocks}: 1 after a shape change, then counting up through a run of
 *                    shape-preserving bottlenecks
 */
public record GhostBottleneckSpec(String name, int in, int mid, int out, int kernel, int stride, int seChannels,
                                  int stageBlocks) {

    /** Validates the fields. */
    public GhostBottleneckSpec {
        if (in < 1 || mid < 1 || out < 1 || kernel < 1 || kernel % 2 == 0 || stride < 1 || seChannels < 0
                || stageBlocks < 1) {
            throw new IllegalArgumentException("bottleneck " + name + ": invalid shape " + in + "->" + mid + "->" + out
                    + ", kernel " + kernel + ", stride " + stride + ", SE " + seChannels + ", stage block " + stageBlocks);
        }
    }

    /** @return whether the bottleneck has a squeeze-and-excitation block */
    public boolean hasSe() {
        return seChannels > 0;
    }

    /** @return whether the shortcut is the identity ({@code in == out}, stride 1) */
    public boolean hasIdentityShortcut() {
        return in == out && stride == 1;
    }

    /** @return the expanding module, {@code in -> mid}, with ReLU */
    public GhostModuleSpec ghost1() {
        return new GhostModuleSpec(name + ".ghost1", in, mid, true, 2 * stageBlocks - 1);
    }

    /** @return the projecting module, {@code mid -> out}, without ReLU */
    public GhostModuleSpec ghost2() {
        return new GhostModuleSpec(name + ".ghost2", mid, out, false, 2 * stageBlocks);
    }
}
