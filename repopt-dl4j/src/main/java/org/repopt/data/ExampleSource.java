package org.repopt.data;

/**
 * One split of a data set as the batch builder sees it: examples addressed by index, each written normalized
 * (and, for training, augmented) into a slice of a batch buffer.
 */
interface ExampleSource {

    /** @return the number of examples */
    int size();

    /** @return the label of example {@code index}, in {@code [0, numClasses)} */
    int label(int index);

    /** @return the shape of a written example and the class names */
    ImageFormat format();

    /**
     * Writes example {@code index} as {@code channels x height x width} floats (c-order) at {@code dst[offset]}.
     * The result depends only on the arguments, so batches are identical whichever thread writes them.
     *
     * @param index       the example
     * @param augment     whether to apply the training augmentation
     * @param exampleSeed the seed of this example's augmentation (unused without augmentation)
     * @param dst         the batch buffer
     * @param offset      where the example starts in {@code dst}
     */
    void write(int index, boolean augment, long exampleSeed, float[] dst, int offset);

    /** @return whether examples are expensive enough (image decoding) to write a batch's examples in parallel */
    boolean parallel();
}
