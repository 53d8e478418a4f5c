package org.repopt.gr;

import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonInclude;
import org.nd4j.shade.jackson.annotation.JsonProperty;
import org.nd4j.shade.jackson.annotation.JsonPropertyOrder;

import java.util.Arrays;
import java.util.Objects;

/**
 * The constant per-output-channel scales of one CSLA block (Ding et al., ICLR 2023, section 3):
 * {@code y = scale_conv ⊙ conv3x3(x) + scale_1x1 ⊙ conv1x1(x) [+ scale_identity ⊙ x]}.
 *
 * <p>An immutable value that validates itself: every scale array has {@code out_channels} finite values, and the
 * identity scale is present exactly when the block has an identity branch ({@code in == out} and
 * {@code stride == 1}). Its JSON form is one entry of a scales file's {@code blocks} array, so a block reads the
 * same in a scales file and inside a saved DL4J configuration.
 */
@JsonPropertyOrder({"block", "in_channels", "out_channels", "stride", "scale_identity", "scale_conv", "scale_1x1"})
@JsonInclude(JsonInclude.Include.ALWAYS)
public final class BlockScales implements java.io.Serializable {

    private static final long serialVersionUID = 1L;

    @JsonProperty("block")
    private final String block;
    @JsonProperty("in_channels")
    private final int inChannels;
    @JsonProperty("out_channels")
    private final int outChannels;
    @JsonProperty("stride")
    private final int stride;
    @JsonProperty("scale_conv")
    private final double[] scaleConv;
    @JsonProperty("scale_1x1")
    private final double[] scale1x1;
    @JsonProperty("scale_identity")
    private final double[] scaleIdentity;

    /**
     * @param block         the block's name, used in every message about it (e.g. {@code stage1.0})
     * @param inChannels    input channels of the block's 3x3 conv
     * @param outChannels   output channels; the length of every scale array
     * @param stride        1 or 2
     * @param scaleConv     {@code s3}, per output channel
     * @param scale1x1      {@code s1}, per output channel
     * @param scaleIdentity {@code sid} per output channel, or {@code null} for a block without identity branch
     * @throws IllegalArgumentException naming the block, the field and expected vs actual values
     */
    @JsonCreator
    public BlockScales(@JsonProperty("block") String block,
                       @JsonProperty("in_channels") int inChannels,
                       @JsonProperty("out_channels") int outChannels,
                       @JsonProperty("stride") int stride,
                       @JsonProperty("scale_conv") double[] scaleConv,
                       @JsonProperty("scale_1x1") double[] scale1x1,
                       @JsonProperty("scale_identity") double[] scaleIdentity) {
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
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.stride = stride;
        this.scaleConv = checked("scale_conv", scaleConv);
        this.scale1x1 = checked("scale_1x1", scale1x1);
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

    /**
     * The CSLA rule of which blocks carry an identity branch (REFERENCE section 2).
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

    /** @return a copy of {@code s1} */
    public double[] scale1x1() {
        return scale1x1.clone();
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
        return new BlockScales(newName, inChannels, outChannels, stride, scaleConv, scale1x1, scaleIdentity);
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
                && block.equals(that.block) && Arrays.equals(scaleConv, that.scaleConv)
                && Arrays.equals(scale1x1, that.scale1x1) && Arrays.equals(scaleIdentity, that.scaleIdentity);
    }

    @Override
    public int hashCode() {
        int h = Objects.hash(block, inChannels, outChannels, stride);
        h = 31 * h + Arrays.hashCode(scaleConv);
        h = 31 * h + Arrays.hashCode(scale1x1);
        return 31 * h + Arrays.hashCode(scaleIdentity);
    }

    @Override
    public String toString() {
        return "BlockScales{" + block + ", " + inChannels + "->" + outChannels + ", stride " + stride
                + (hasIdentity() ? ", identity" : "") + "}";
    }
}
