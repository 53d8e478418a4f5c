package org.repopt.data;

/**
 * A split of a small data set held in memory: {@code count} images of {@code channels x height x width} unsigned
 * bytes (c-order, one image after the other) and one label byte per image. Never modified after loading, so views
 * with other options share it.
 */
final class ByteImages {

    final int count;
    final int channels;
    final int height;
    final int width;
    final byte[] pixels;
    final byte[] labels;

    ByteImages(int count, int channels, int height, int width, byte[] pixels, byte[] labels) {
        long expected = (long) count * channels * height * width;
        if (pixels.length != expected || labels.length != count) {
            throw new IllegalArgumentException("images " + count + "x" + channels + "x" + height + "x" + width
                    + " need " + expected + " pixel bytes and " + count + " labels, got " + pixels.length + " and "
                    + labels.length);
        }
        this.count = count;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.pixels = pixels;
        this.labels = labels;
    }
}
