package org.repopt.data;

import org.nd4j.linalg.api.buffer.DataType;

import java.util.Objects;

/**
 * How a data set delivers its batches: the floating-point type, which training examples it uses, and the
 * small-image augmentation. An immutable value validated in the constructor; {@link #DEFAULTS} plus withers.
 *
 * <p>The small-image augmentation (Fashion-MNIST, CIFAR) is a random crop of the image zero-padded by
 * {@link #padding()} pixels on every side, then a horizontal flip with probability 1/2 if {@link #flip()}; it is the
 * CIFAR recipe of the paper's Hyper-Search (random crop with padding 4 + flip). Image folders use a random-resized
 * crop instead (their padding is unused) and flip the same way.
 */
public final class DataOptions {

    /** Random-crop padding of the paper's CIFAR-100 search recipe: 4 pixels. */
    public static final int DEFAULT_PADDING = 4;

    /** FLOAT batches, every training example, padding {@value #DEFAULT_PADDING}, flip on. */
    public static final DataOptions DEFAULTS = new DataOptions(DataType.FLOAT, Subset.all(), DEFAULT_PADDING, true);

    private final DataType dataType;
    private final Subset subset;
    private final int padding;
    private final boolean flip;

    /**
     * @param dataType FLOAT for training, DOUBLE for tests that compare runs exactly
     * @param subset   the training examples to use
     * @param padding  zero padding of the small-image random crop in pixels, 0 disables the crop
     * @param flip     whether training images are flipped horizontally with probability 1/2
     * @throws IllegalArgumentException for another data type or a negative padding
     */
    public DataOptions(DataType dataType, Subset subset, int padding, boolean flip) {
        if (dataType != DataType.FLOAT && dataType != DataType.DOUBLE) {
            throw new IllegalArgumentException("data type " + dataType + ": expected FLOAT or DOUBLE");
        }
        if (padding < 0) {
            throw new IllegalArgumentException("padding " + padding + ": expected 0 (no crop) or more pixels");
        }
        this.dataType = dataType;
        this.subset = Objects.requireNonNull(subset, "subset");
        this.padding = padding;
        this.flip = flip;
    }

    /** @return FLOAT or DOUBLE: the type of features and labels */
    public DataType dataType() {
        return dataType;
    }

    /** @return the training examples used */
    public Subset subset() {
        return subset;
    }

    /** @return zero padding of the small-image random crop, 0 when the crop is off */
    public int padding() {
        return padding;
    }

    /** @return whether training images are flipped horizontally with probability 1/2 */
    public boolean flip() {
        return flip;
    }

    /** @param type FLOAT or DOUBLE @return a copy with that data type */
    public DataOptions withDataType(DataType type) {
        return new DataOptions(type, subset, padding, flip);
    }

    /** @param s the training examples to use @return a copy with that subset */
    public DataOptions withSubset(Subset s) {
        return new DataOptions(dataType, s, padding, flip);
    }

    /** @param pixels zero padding of the random crop, 0 disables it @return a copy with that padding */
    public DataOptions withPadding(int pixels) {
        return new DataOptions(dataType, subset, pixels, flip);
    }

    /** @param on whether to flip training images @return a copy with that flip setting */
    public DataOptions withFlip(boolean on) {
        return new DataOptions(dataType, subset, padding, on);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof DataOptions)) {
            return false;
        }
        DataOptions d = (DataOptions) o;
        return dataType == d.dataType && subset.equals(d.subset) && padding == d.padding && flip == d.flip;
    }

    @Override
    public int hashCode() {
        return Objects.hash(dataType, subset, padding, flip);
    }

    @Override
    public String toString() {
        return "DataOptions{" + dataType + ", subset " + subset + ", padding " + padding + ", flip " + flip + "}";
    }
}
