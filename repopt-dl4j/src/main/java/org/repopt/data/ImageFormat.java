package org.repopt.data;

import java.util.List;

/**
 * What every example of a data set is: a {@code channels x height x width} image (NCHW, after any crop) in one of
 * {@code classNames.size()} classes. An immutable, validated value shared by data sets and their splits.
 *
 * @param channels   image channels of the network input
 * @param height     image height of the network input
 * @param width      image width of the network input
 * @param classNames the class names, index {@code i} naming label {@code i}
 */
public record ImageFormat(int channels, int height, int width, List<String> classNames) {

    /**
     * @throws IllegalArgumentException when a dimension is below 1 or there is no class
     */
    public ImageFormat {
        if (channels < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException("image format " + channels + "x" + height + "x" + width
                    + ": every dimension must be >= 1");
        }
        classNames = List.copyOf(classNames);
        if (classNames.isEmpty()) {
            throw new IllegalArgumentException("image format: expected at least one class");
        }
    }

    /** @return the number of classes */
    public int numClasses() {
        return classNames.size();
    }

    /** @return values per example, {@code channels * height * width} */
    public int exampleLength() {
        return channels * height * width;
    }

    @Override
    public String toString() {
        return channels + "x" + height + "x" + width + ", " + classNames.size() + " classes";
    }
}
