package org.repopt.data;

import java.util.Random;

/**
 * A crop window {@code (x, y, width, height)} in an image's pixels, and the two rules that choose it for image
 * folders: torchvision's {@code RandomResizedCrop} for training and resize-then-centre-crop for evaluation.
 */
final class CropBox {

    /** RandomResizedCrop's area range, as a fraction of the image (torchvision's default). */
    static final double MIN_SCALE = 0.08;
    static final double MAX_SCALE = 1.0;
    /** RandomResizedCrop's aspect-ratio range (torchvision's default). */
    static final double MIN_RATIO = 3.0 / 4.0;
    static final double MAX_RATIO = 4.0 / 3.0;
    /** Tries before RandomResizedCrop falls back to a centre crop (torchvision's). */
    static final int ATTEMPTS = 10;
    /** Evaluation resizes the shorter side to {@code floor(size / 0.875)} (256 for 224), then crops the centre. */
    static final double EVAL_CROP_FRACTION = 0.875;

    final int x;
    final int y;
    final int width;
    final int height;

    CropBox(int x, int y, int width, int height) {
        this.x = x;
        this.y = y;
        this.width = width;
        this.height = height;
    }

    /**
     * torchvision's {@code RandomResizedCrop.get_params}: up to {@value #ATTEMPTS} tries of an area fraction in
     * [{@value #MIN_SCALE}, {@value #MAX_SCALE}] and a log-uniform aspect ratio in [3/4, 4/3]; if none fits, the
     * largest centred window whose ratio lies in that range.
     */
    static CropBox randomResized(int imageWidth, int imageHeight, Random random) {
        double area = (double) imageWidth * imageHeight;
        double logMin = Math.log(MIN_RATIO);
        double logMax = Math.log(MAX_RATIO);
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            double target = area * (MIN_SCALE + (MAX_SCALE - MIN_SCALE) * random.nextDouble());
            double ratio = Math.exp(logMin + (logMax - logMin) * random.nextDouble());
            int w = (int) Math.round(Math.sqrt(target * ratio));
            int h = (int) Math.round(Math.sqrt(target / ratio));
            if (w > 0 && w <= imageWidth && h > 0 && h <= imageHeight) {
                int y = random.nextInt(imageHeight - h + 1);
                int x = random.nextInt(imageWidth - w + 1);
                return new CropBox(x, y, w, h);
            }
        }
        double inRatio = (double) imageWidth / imageHeight;
        int w = imageWidth;
        int h = imageHeight;
        if (inRatio < MIN_RATIO) {
            h = Math.max(1, (int) Math.round(w / MIN_RATIO));
        } else if (inRatio > MAX_RATIO) {
            w = Math.max(1, (int) Math.round(h * MAX_RATIO));
        }
        return new CropBox((imageWidth - w) / 2, (imageHeight - h) / 2, w, h);
    }

    /**
     * The window of {@code Resize(floor(size / 0.875))} then {@code CenterCrop(size)}, in the original image: a
     * centred square of side {@code shorter * size / floor(size / 0.875)}, resized to {@code size} afterwards (one
     * resize instead of two).
     */
    static CropBox centre(int imageWidth, int imageHeight, int size) {
        int resized = (int) Math.floor(size / EVAL_CROP_FRACTION);
        int shorter = Math.min(imageWidth, imageHeight);
        int side = Math.max(1, Math.min(shorter, (int) Math.round((double) shorter * size / resized)));
        return new CropBox((imageWidth - side) / 2, (imageHeight - side) / 2, side, side);
    }

    @Override
    public String toString() {
        return "(" + x + ", " + y + ", " + width + "x" + height + ")";
    }
}
