package org.repopt.model;

import org.repopt.gr.BlockScales;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * The architecture of a VGG-style network as data: input shape, class count, a stem block, then stages of 3x3
 * blocks, global average pooling and a linear classifier. RepOpt-VGG, RepVGG and the Hyper-Search model are all
 * built from one spec, so the three families cannot drift apart, and a scales file is checked block by block
 * against it.
 */
public final class VggSpec extends ClassifierSpec {

    private final String name;
    private final int stemWidth;
    private final int stemStride;
    private final List<Stage> stages;
    private final List<BlockSpec> blocks;

    private VggSpec(Builder b) {
        super("spec " + requireName(b.name), b.inputChannels, b.inputHeight, b.inputWidth, b.numClasses);
        this.name = b.name;
        if (b.stemWidth < 1 || (b.stemStride != 1 && b.stemStride != 2)) {
            throw new IllegalArgumentException("spec " + name + ": stem width must be >= 1 and stride 1 or 2, got width "
                    + b.stemWidth + ", stride " + b.stemStride);
        }
        if (b.stages.isEmpty()) {
            throw new IllegalArgumentException("spec " + name + ": needs at least one stage");
        }
        this.stemWidth = b.stemWidth;
        this.stemStride = b.stemStride;
        this.stages = List.copyOf(b.stages);
        this.blocks = Collections.unmodifiableList(enumerate());
        int h = inputHeight();
        int w = inputWidth();
        for (BlockSpec block : blocks) {
            h = (h + block.stride() - 1) / block.stride();
            w = (w + block.stride() - 1) / block.stride();
        }
        if (h < 1 || w < 1) {
            throw new IllegalArgumentException("spec " + name + ": input " + inputHeight() + "x" + inputWidth()
                    + " is too small for its strides");
        }
    }

    private static String requireName(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isBlank()) {
            throw new IllegalArgumentException("spec name must not be empty");
        }
        return name;
    }

    private List<BlockSpec> enumerate() {
        List<BlockSpec> out = new ArrayList<>();
        out.add(new BlockSpec("stage0", 0, 0, inputChannels(), stemWidth, stemStride));
        int in = stemWidth;
        for (int s = 0; s < stages.size(); s++) {
            Stage st = stages.get(s);
            for (int i = 0; i < st.depth(); i++) {
                out.add(new BlockSpec("stage" + (s + 1) + "." + i, s + 1, i, in, st.width(), i == 0 ? st.stride() : 1));
                in = st.width();
            }
        }
        return out;
    }

    /** @return a builder for a custom architecture */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    /**
     * The paper's variant at its ImageNet shape (3x224x224, 1000 classes).
     *
     * @param variant B1, B2, L1 or L2
     * @return its spec
     */
    public static VggSpec of(Variant variant) {
        return variant.spec();
    }

    /**
     * The project's Fashion-MNIST-size network: 1x28x28, 10 classes, stem 16 (stride 1), stages (2, 32), (2, 64),
     * (1, 128), each starting at stride 2. It is the demo's model and the {@code small} benchmark preset.
     *
     * @return the spec named {@code small}
     */
    public static VggSpec small() {
        return builder("small").input(1, 28, 28).classes(10).stem(16, 1)
                .stage(2, 32, 2).stage(2, 64, 2).stage(1, 128, 2).build();
    }

    /**
     * @param c channels
     * @param h height
     * @param w width
     * @return this architecture for another input shape
     */
    @Override
    public VggSpec withInput(int c, int h, int w) {
        return toBuilder().input(c, h, w).build();
    }

    /**
     * @param classes class count
     * @return this architecture with another classifier size
     */
    @Override
    public VggSpec withClasses(int classes) {
        return toBuilder().classes(classes).build();
    }

    private Builder toBuilder() {
        Builder b = new Builder(name).input(inputChannels(), inputHeight(), inputWidth()).classes(numClasses())
                .stem(stemWidth, stemStride);
        stages.forEach(s -> b.stage(s.depth(), s.width(), s.stride()));
        return b;
    }

    /** @return the architecture's name, e.g. {@code B1} or {@code small} */
    @Override
    public String name() {
        return name;
    }

    /** @return the stages after the stem */
    public List<Stage> stages() {
        return stages;
    }

    /** @return every 3x3 block, stem first, in forward order */
    public List<BlockSpec> blocks() {
        return blocks;
    }

    /** @return blocks per stage after the stem, as a scales file's {@code num_blocks} */
    public int[] depths() {
        return stages.stream().mapToInt(Stage::depth).toArray();
    }

    /** @return channels entering the classifier */
    public int features() {
        return blocks.get(blocks.size() - 1).out();
    }

    /**
     * Checks that scales were made for this architecture, block by block in forward order.
     *
     * @param scales    every block's scales, in forward order
     * @param modelName the model in messages, e.g. {@code RepOpt-VGG-B1}
     * @throws IllegalArgumentException naming the first block that does not match (name, channels, stride), or
     *                                  the first unmatched block where the counts differ
     */
    public void requireMatches(List<BlockScales> scales, String modelName) {
        ScalesFit.require(scales, blocks.stream().map(b -> new ScalesFit.Slot(b.name(), b.in(), b.out(), b.stride(),
                b.describe())).toList(), "block", modelName);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof VggSpec)) {
            return false;
        }
        VggSpec s = (VggSpec) o;
        return name.equals(s.name) && sameInputAndClasses(s) && stemWidth == s.stemWidth && stemStride == s.stemStride
                && stages.equals(s.stages);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, inputChannels(), inputHeight(), inputWidth(), numClasses(), stemWidth, stemStride,
                stages);
    }

    @Override
    public String toString() {
        return "VggSpec{" + name + ", input " + inputShape() + ", " + numClasses() + " classes, stem " + stemWidth
                + "/s" + stemStride + ", stages " + stages + "}";
    }

    /** Builds a custom {@link VggSpec}. */
    public static final class Builder {
        private final String name;
        private int inputChannels = 3;
        private int inputHeight = 224;
        private int inputWidth = 224;
        private int numClasses = 1000;
        private int stemWidth = 64;
        private int stemStride = 2;
        private final List<Stage> stages = new ArrayList<>();

        private Builder(String name) {
            this.name = name;
        }

        /** Input shape (default 3x224x224). */
        public Builder input(int channels, int height, int width) {
            this.inputChannels = channels;
            this.inputHeight = height;
            this.inputWidth = width;
            return this;
        }

        /** @param k class count (default 1000) */
        public Builder classes(int k) {
            this.numClasses = k;
            return this;
        }

        /** Stem block (default 64 channels, stride 2). */
        public Builder stem(int width, int stride) {
            this.stemWidth = width;
            this.stemStride = stride;
            return this;
        }

        /** Appends a stage. */
        public Builder stage(int depth, int width, int stride) {
            stages.add(new Stage(depth, width, stride));
            return this;
        }

        /** @return the validated spec */
        public VggSpec build() {
            return new VggSpec(this);
        }
    }
}
