package org.repopt.gr;

import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonInclude;
import org.nd4j.shade.jackson.annotation.JsonProperty;
import org.nd4j.shade.jackson.annotation.JsonPropertyOrder;

import java.util.Arrays;
import java.util.Objects;

/**
 * The constant per-output-channel scales of one CSLA block (Ding et al., ICLR 2023; docs/METHOD.md#csla-block):
 * {@code y = scale_conv ⊙ convKxK(x) [+ scale_1x1 ⊙ conv1x1(x)] [+ scale_identity ⊙ x]}.
 *
 * <p>An immutable value that validates itself: every scale array has {@code out_channels} finite values, and the
 * identity scale is present exactly when the block has an identity branch ({@code in == out} and
 * {@code stride == 1}). Its JSON form is one entry of a scales file's {@code blocks} array, so a block reads the
 * same in a scales file and inside a saved DL4J configuration.
 *
 * <p>The re-parameterized conv has an odd {@link #kernel() kernel} size {@code k >= 3} (default 3; the 1x1 branch
 * sits at the centre tap {@code (k/2, k/2)}) and {@link #groups() groups} 1 (a full {@code [out, in, k, k]} kernel)
 * or {@code groups == in == out} ({@link #depthwise() depthwise}, kernel {@code [C, 1, k, k]} in PyTorch's layout,
 * {@code [k, k, C, 1]} in DL4J's {@code DepthwiseConvolution2D}; docs/METHOD.md#grad-mult-depthwise). The 1x1 branch
 * is optional: a block without one (every depthwise block, e.g. RepOpt-GhostNet's cheap operations) has
 * {@link #scale1x1()} {@code null} and {@link #hasConv1x1()} {@code false}, and its JSON {@code scale_1x1} is
 * {@code null}. Configurations and scales files written before {@code kernel} and {@code groups} existed read as
 * kernel 3, groups 1.
 */
@JsonPropertyOrder({"block", "in_channels", "out_channels", "stride", "kernel", "groups", "scale_identity",
        "scale_conv", "scale_1x1"})
@JsonInclude(JsonInclude.Include.ALWAYS)
public final class BlockScales implements java.io.Serializable {

    private static final long serialVersionUID = 1L;

    /** The kernel size of a block that does not say otherwise. */
    public static final int DEFAULT_KERNEL = 3;

    @JsonProperty("block")
    private final String block;
    @JsonProperty("in_channels")
    private final int inChannels;
    @JsonProperty("out_channels")
    private final int outChannels;
    @JsonProperty("stride")
    private final int stride;
    @JsonProperty("kernel")
    private final int kernel;
    @JsonProperty("groups")
    private final int groups;
    @JsonProperty("scale_conv")
    private final double[] scaleConv;
    @JsonProperty("scale_1x1")
    private final double[] scale1x1;
    @JsonProperty("scale_identity")
    private final double[] scaleIdentity;

    /**
     * A 3x3 block with groups 1 and a 1x1 branch (the RepOpt-VGG block).
     *
     * @param block         the block's name, used in every message about it (e.g. {@code stage1.0})
     * @param inChannels    input channels of the block's 3x3 conv
     * @param outChannels   output channels; the length of every scale array
     * @param stride        1 or 2
     * @param scaleConv     {@code s3}, per output channel
     * @param scale1x1      {@code s1}, per output channel, or {@code null} for a block without 1x1 branch
     * @param scaleIdentity {@code sid} per output channel, or {@code null} for a block without identity branch
     * @throws IllegalArgumentException naming the block, the field and expected vs actual values
     */
    public BlockScales(String block, int inChannels, int outChannels, int stride, double[] scaleConv,
                       double[] scale1x1, double[] scaleIdentity) {
        this(block, inChannels, outChannels, stride, DEFAULT_KERNEL, 1, scaleConv, scale1x1, scaleIdentity);
    }

    /**
     * Any block: odd kernel size, groups 1 or depthwise.
     *
     * @param block         the block's name, used in every message about it
     * @param inChannels    input channels of the block's conv
     * @param outChannels   output channels; the length of every scale array
     * @param stride        1 or 2
     * @param kernel        the conv's kernel size, odd and {@code >= 3}
     * @param groups        1, or {@code in == out} for a depthwise conv
     * @param scaleConv     the k x k branch's scale, per output channel
     * @param scale1x1      the 1x1 branch's scale, per output channel, or {@code null} for none (always for
     *                      depthwise)
     * @param scaleIdentity the identity branch's scale, per output channel, or {@code null} for a block without
     *                      identity branch
     * @throws IllegalArgumentException naming the block, the field and expected vs actual values
     */
    public BlockScales(String block, int inChannels, int outChannels, int stride, int kernel, int groups,
                       double[] scaleConv, double[] scale1x1, double[] scaleIdentity) {
        if (block == null || block.isBlank()) {
            throw new IllegalArgumentException("block name must not be empty");
        }
        this.block = block;
        if (inChannels < 1 || outChannels < 1) {
            throw new IllegalArgumentException("block " + block + ": in_channels and out_channels must be >= 1, got "
                    + inChannels + " and " + outChannels);
        }
        if (stride != 1 && stride != 2) {
            throw new IllegalArgumentException("block " + block + ": stride must be 1 or 2, got " + stride);
        }
        String kernelProblem = kernelProblem(kernel);
        if (kernelProblem != null) {
            throw new IllegalArgumentException("block " + block + ": " + kernelProblem);
        }
        String groupsProblem = groupsProblem(inChannels, outChannels, groups);
        if (groupsProblem != null) {
            throw new IllegalArgumentException("block " + block + ": " + groupsProblem);
        }
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.stride = stride;
        this.kernel = kernel;
        this.groups = groups;
        this.scaleConv = checked("scale_conv", scaleConv);
        if (scale1x1 != null && groups > 1) {
            throw new IllegalArgumentException("block " + block + ": scale_1x1 given, but a depthwise block (groups "
                    + groups + ") has no 1x1 branch; expected null");
        }
        this.scale1x1 = scale1x1 == null ? null : checked("scale_1x1", scale1x1);
        boolean identityBranch = hasIdentityBranch(inChannels, outChannels, stride);
        if (scaleIdentity != null && !identityBranch) {
            throw new IllegalArgumentException("block " + block + ": scale_identity given, but a block with in_channels="
                    + inChannels + ", out_channels=" + outChannels + ", stride=" + stride
                    + " has no identity branch (it needs in == out and stride 1)");
        }
        if (scaleIdentity == null && identityBranch) {
            throw new IllegalArgumentException("block " + block + ": scale_identity missing; a block with in == out == "
                    + outChannels + " and stride 1 has an identity branch");
        }
        this.scaleIdentity = scaleIdentity == null ? null : checked("scale_identity", scaleIdentity);
    }

    /** Reads the JSON form; {@code kernel} and {@code groups} absent (files before they existed) mean 3 and 1. */
    @JsonCreator
    static BlockScales fromJson(@JsonProperty("block") String block,
                                @JsonProperty("in_channels") int inChannels,
                                @JsonProperty("out_channels") int outChannels,
                                @JsonProperty("stride") int stride,
                                @JsonProperty("kernel") Integer kernel,
                                @JsonProperty("groups") Integer groups,
                                @JsonProperty("scale_conv") double[] scaleConv,
                                @JsonProperty("scale_1x1") double[] scale1x1,
                                @JsonProperty("scale_identity") double[] scaleIdentity) {
        return new BlockScales(block, inChannels, outChannels, stride, kernel == null ? DEFAULT_KERNEL : kernel,
                groups == null ? 1 : groups, scaleConv, scale1x1, scaleIdentity);
    }

    /**
     * A depthwise block ({@code groups == channels}, no 1x1 branch), e.g. a RepOpt-GhostNet cheap operation:
     * {@code scaleConv ⊙ dwconvKxK(x) [+ scaleIdentity ⊙ x]}.
     *
     * @param block         the block's name
     * @param channels      input and output channels, and groups
     * @param stride        1 or 2
     * @param kernel        odd kernel size {@code >= 3}
     * @param scaleConv     the depthwise branch's scale, per channel
     * @param scaleIdentity the identity scale per channel (stride 1), or {@code null} (stride 2)
     * @return the block's scales
     * @throws IllegalArgumentException naming the block, the field and expected vs actual values
     */
    public static BlockScales depthwise(String block, int channels, int stride, int kernel, double[] scaleConv,
                                        double[] scaleIdentity) {
        return new BlockScales(block, channels, channels, stride, kernel, channels, scaleConv, null, scaleIdentity);
    }

    /**
     * @param kernel a kernel size
     * @return why it cannot be a re-parameterized conv's kernel size, or {@code null} when it can (odd, {@code >= 3})
     */
    static String kernelProblem(int kernel) {
        return kernel >= 3 && kernel % 2 == 1 ? null
                : "kernel must be an odd size >= 3 (the 1x1 branch sits at its centre tap), got " + kernel;
    }

    /**
     * @return why {@code groups} does not fit the channels, or {@code null} when it is 1 or {@code in == out}
     */
    static String groupsProblem(int inChannels, int outChannels, int groups) {
        if (groups == 1 || (groups == inChannels && groups == outChannels)) {
            return null;
        }
        return "groups must be 1 or in_channels == out_channels (depthwise), got groups=" + groups
                + " with in_channels=" + inChannels + ", out_channels=" + outChannels;
    }

    /**
     * The CSLA rule of which blocks carry an identity branch (docs/METHOD.md#csla-block).
     *
     * @return {@code in == out && stride == 1}
     */
    public static boolean hasIdentityBranch(int inChannels, int outChannels, int stride) {
        return inChannels == outChannels && stride == 1;
    }

    private double[] checked(String field, double[] values) {
        if (values == null) {
            throw new IllegalArgumentException("block " + block + ": " + field + " missing");
        }
        if (values.length != outChannels) {
            throw new IllegalArgumentException("block " + block + ": " + field + " has " + values.length
                    + " values, expected " + outChannels + " (out_channels)");
        }
        for (int c = 0; c < values.length; c++) {
            if (!Double.isFinite(values[c])) {
                throw new IllegalArgumentException("block " + block + ": " + field + "[" + c + "] is " + values[c]
                        + ", expected a finite number");
            }
        }
        return values.clone();
    }

    /** @return the block's name */
    public String block() {
        return block;
    }

    /** @return input channels of the block's 3x3 conv */
    public int inChannels() {
        return inChannels;
    }

    /** @return output channels, the length of every scale array */
    public int outChannels() {
        return outChannels;
    }

    /** @return the conv stride, 1 or 2 */
    public int stride() {
        return stride;
    }

    /** @return a copy of {@code s3} */
    public double[] scaleConv() {
        return scaleConv.clone();
    }

    /** @return the conv's kernel size: odd, {@code >= 3} */
    public int kernel() {
        return kernel;
    }

    /** @return the conv's groups: 1, or {@code in == out} for a depthwise conv */
    public int groups() {
        return groups;
    }

    /**
     * @return whether the conv is depthwise ({@code groups == in == out > 1}): one input channel per output channel,
     * no 1x1 branch
     */
    public boolean depthwise() {
        return groups > 1;
    }

    /** @return input channels per group: the second dimension of the kernel in PyTorch's layout */
    public int inChannelsPerGroup() {
        return inChannels / groups;
    }

    /** @return values in the kernel, {@code out * in / groups * k * k} */
    public long kernelLength() {
        return (long) outChannels * inChannelsPerGroup() * kernel * kernel;
    }

    /** @return a copy of {@code s1}, or {@code null} where the block has no 1x1 branch */
    public double[] scale1x1() {
        return scale1x1 == null ? null : scale1x1.clone();
    }

    /** @return whether the block has a 1x1 branch ({@link #scale1x1()} is not {@code null}) */
    public boolean hasConv1x1() {
        return scale1x1 != null;
    }

    /** @return a copy of {@code sid}, or {@code null} where the block has no identity branch */
    public double[] scaleIdentity() {
        return scaleIdentity == null ? null : scaleIdentity.clone();
    }

    /** @return whether the block has an identity branch */
    public boolean hasIdentity() {
        return scaleIdentity != null;
    }

    /**
     * @param newName the name the copy carries
     * @return the same scales under another block name
     */
    public BlockScales renamed(String newName) {
        return new BlockScales(newName, inChannels, outChannels, stride, kernel, groups, scaleConv, scale1x1,
                scaleIdentity);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof BlockScales)) {
            return false;
        }
        BlockScales that = (BlockScales) o;
        return inChannels == that.inChannels && outChannels == that.outChannels && stride == that.stride
                && kernel == that.kernel && groups == that.groups && block.equals(that.block) && Arrays.equals(scaleConv, that.scaleConv)
                && Arrays.equals(scale1x1, that.scale1x1) && Arrays.equals(scaleIdentity, that.scaleIdentity);
    }

    @Override
    public int hashCode() {
        int h = Objects.hash(block, inChannels, outChannels, stride, kernel, groups);
        h = 31 * h + Arrays.hashCode(scaleConv);
        h = 31 * h + Arrays.hashCode(scale1x1);
        return 31 * h + Arrays.hashCode(scaleIdentity);
    }

    @Override
    public String toString() {
        return "BlockScales{" + block + ", " + inChannels + "->" + outChannels + ", stride " + stride
                + (kernel == DEFAULT_KERNEL ? "" : ", kernel " + kernel) + (depthwise() ? ", depthwise" : "")
                + (hasConv1x1() ? "" : ", no 1x1") + (hasIdentity() ? ", identity" : "") + "}";
    }
}
