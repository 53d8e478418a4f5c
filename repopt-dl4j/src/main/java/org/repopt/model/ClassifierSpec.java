package org.repopt.model;

/**
 * What every architecture spec shares: the image input it takes and the number of classes it tells apart, checked in
 * one place ({@link VggSpec}, {@link GhostNetSpec}).
 */
public abstract sealed class ClassifierSpec permits VggSpec, GhostNetSpec {

    private final int inputChannels;
    private final int inputHeight;
    private final int inputWidth;
    private final int numClasses;

    /**
     * @param subject       the spec in messages, e.g. {@code spec B1} or {@code RepOpt-GhostNet 0.5x}
     * @param inputChannels input channels, {@code >= 1}
     * @param inputHeight   input height, {@code >= 1}
     * @param inputWidth    input width, {@code >= 1}
     * @param numClasses    classifier outputs, {@code >= 2}
     * @throws IllegalArgumentException {@code "<subject>: input shape must be positive, got CxHxW"} or
     *                                  {@code "<subject>: needs at least 2 classes, got K"}
     */
    ClassifierSpec(String subject, int inputChannels, int inputHeight, int inputWidth, int numClasses) {
        if (inputChannels < 1 || inputHeight < 1 || inputWidth < 1) {
            throw new IllegalArgumentException(subject + ": input shape must be positive, got "
                    + shape(inputChannels, inputHeight, inputWidth));
        }
        if (numClasses < 2) {
            throw new IllegalArgumentException(subject + ": needs at least 2 classes, got " + numClasses);
        }
        this.inputChannels = inputChannels;
        this.inputHeight = inputHeight;
        this.inputWidth = inputWidth;
        this.numClasses = numClasses;
    }

    private static String shape(int channels, int height, int width) {
        return channels + "x" + height + "x" + width;
    }

    /** @return the architecture's name, e.g. {@code B1}, {@code small} or {@code 0.5x} */
    public abstract String name();

    /**
     * @param c channels
     * @param h height
     * @param w width
     * @return this architecture for another input shape
     */
    public abstract ClassifierSpec withInput(int c, int h, int w);

    /**
     * @param classes class count
     * @return this architecture with another classifier size
     */
    public abstract ClassifierSpec withClasses(int classes);

    /** @return input channels */
    public int inputChannels() {
        return inputChannels;
    }

    /** @return input height */
    public int inputHeight() {
        return inputHeight;
    }

    /** @return input width */
    public int inputWidth() {
        return inputWidth;
    }

    /** @return classifier outputs */
    public int numClasses() {
        return numClasses;
    }

    /** @return e.g. {@code 3x224x224} */
    public String inputShape() {
        return shape(inputChannels, inputHeight, inputWidth);
    }

    /** @return whether {@code other} takes the same input and has as many classes */
    final boolean sameInputAndClasses(ClassifierSpec other) {
        return inputChannels == other.inputChannels && inputHeight == other.inputHeight
                && inputWidth == other.inputWidth && numClasses == other.numClasses;
    }
}
