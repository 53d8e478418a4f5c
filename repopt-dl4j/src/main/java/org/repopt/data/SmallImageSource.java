package org.repopt.data;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Writes in-memory images normalized per channel, with the small-image augmentation for training: a random crop of
 * the image zero-padded by {@code padding} on every side (torchvision's {@code RandomCrop(size, padding)}; padded
 * pixels are black, i.e. {@code (0 - mean) / std} after normalization), then a horizontal flip with probability
 * 1/2. Every example draws its crop offsets and its flip coin in that order, whether or not padding and flip are
 * on, so switching one off does not change the other's draws.
 */
final class SmallImageSource implements ExampleSource {

    private final ByteImages images;
    private final ImageFormat format;
    private final ChannelStats stats;
    private final int padding;
    private final boolean flip;

    SmallImageSource(ByteImages images, List<String> classNames, ChannelStats stats, int padding, boolean flip) {
        if (stats.channels() != images.channels) {
            throw new IllegalArgumentException("normalization has " + stats.channels() + " channels, images have "
                    + images.channels);
        }
        this.images = images;
        this.format = new ImageFormat(images.channels, images.height, images.width, classNames);
        this.stats = stats;
        this.padding = padding;
        this.flip = flip;
    }

    @Override
    public int size() {
        return images.count;
    }

    @Override
    public int label(int index) {
        return images.labels[index] & 0xff;
    }

    @Override
    public ImageFormat format() {
        return format;
    }

    @Override
    public boolean parallel() {
        return false;
    }

    @Override
    public void write(int index, boolean augment, long exampleSeed, float[] dst, int offset) {
        int shiftY = 0;
        int shiftX = 0;
        boolean mirror = false;
        if (augment) {
            SplittableRandom random = new SplittableRandom(exampleSeed);
            // Offsets of the crop window in the padded image, in [0, 2 * padding], minus the padding.
            shiftY = random.nextInt(2 * padding + 1) - padding;
            shiftX = random.nextInt(2 * padding + 1) - padding;
            mirror = random.nextBoolean() && flip;
        }
        int h = images.height;
        int w = images.width;
        int plane = h * w;
        byte[] pixels = images.pixels;
        int source = index * images.channels * plane;
        for (int c = 0; c < images.channels; c++) {
            float[] table = stats.table(c);
            float black = table[0];
            int planeIn = source + c * plane;
            int planeOut = offset + c * plane;
            for (int y = 0; y < h; y++) {
                int out = planeOut + y * w;
                int sy = y + shiftY;
                if (sy < 0 || sy >= h) {
                    Arrays.fill(dst, out, out + w, black);
                    continue;
                }
                int row = planeIn + sy * w;
                // Output column x reads source column x + shiftX, or (w - 1 - x) + shiftX when mirrored: the flip
                // follows the crop, as in torchvision's RandomCrop then RandomHorizontalFlip.
                for (int x = 0; x < w; x++) {
                    int sx = (mirror ? w - 1 - x : x) + shiftX;
                    dst[out + x] = sx >= 0 && sx < w ? table[pixels[row + sx] & 0xff] : black;
                }
            }
        }
    }
}
