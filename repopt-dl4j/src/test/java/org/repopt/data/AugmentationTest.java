package org.repopt.data;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The small-image crop and flip, the image-folder crop windows and the normalization figures. */
class AugmentationTest {

    private static final int N = EpochBatchesTest.N;
    private static final int S = EpochBatchesTest.SIDE;

    /** Example {@code i}'s normalized pixels, padded with the normalized black on every side. */
    private static float[][] padded(byte[] pixels, int i, int pad) {
        float[] table = ChannelStats.FASHION_MNIST.table(0);
        float[][] p = new float[S + 2 * pad][S + 2 * pad];
        for (float[] row : p) {
            Arrays.fill(row, table[0]);
        }
        for (int y = 0; y < S; y++) {
            for (int x = 0; x < S; x++) {
                p[y + pad][x + pad] = table[pixels[i * S * S + y * S + x] & 0xff];
            }
        }
        return p;
    }

    /** @return 0 for an unflipped window of the padded image, 1 for a flipped one, -1 for neither */
    private static int matchWindow(float[] out, float[][] padded, int pad) {
        for (int flip = 0; flip < 2; flip++) {
            for (int dy = 0; dy <= 2 * pad; dy++) {
                for (int dx = 0; dx <= 2 * pad; dx++) {
                    boolean same = true;
                    for (int y = 0; y < S && same; y++) {
                        for (int x = 0; x < S && same; x++) {
                            int sx = flip == 1 ? S - 1 - x : x;
                            same = out[y * S + x] == padded[y + dy][sx + dx];
                        }
                    }
                    if (same) {
                        return flip;
                    }
                }
            }
        }
        return -1;
    }

    private static int[] flips(DataOptions options, int epoch) {
        byte[] pixels = DataFixtures.bytes(N * S * S, 5);
        int[] counts = new int[2];
        for (DataSet b : EpochBatchesTest.all(EpochBatchesTest.tiny(N, options).train(8, 17L).epoch(epoch))) {
            assertArrayEquals(new long[]{b.getFeatures().size(0), 1, S, S}, b.getFeatures().shape(),
                    "the crop keeps the shape");
            for (int r = 0; r < b.getFeatures().size(0); r++) {
                int example = b.getLabels().getRow(r).argMax().getInt(0);
                float[] out = b.getFeatures().get(NDArrayIndex.point(r)).dup().data().asFloat();
                int flip = matchWindow(out, padded(pixels, example, options.padding()), options.padding());
                assertTrue(flip >= 0, "example " + example + " is no window of its padded image");
                counts[flip]++;
            }
        }
        return counts;
    }

    @Test
    void randomCropIsAWindowOfTheZeroPaddedImage() {
        int[] counts = flips(DataOptions.DEFAULTS.withPadding(2).withFlip(false), 0);
        assertEquals(N, counts[0]);
    }

    @Test
    void flipMirrorsAboutHalfTheImages() {
        int[] counts = flips(DataOptions.DEFAULTS.withPadding(0).withFlip(true), 1);
        assertEquals(N, counts[0] + counts[1]);
        assertTrue(counts[0] > 0 && counts[1] > 0, counts[0] + " unflipped, " + counts[1] + " flipped");
        int[] both = flips(DataOptions.DEFAULTS, 2);
        assertEquals(N, both[0] + both[1]);
    }

    @Test
    void withoutPaddingAndFlipTrainingImagesAreTheNormalizedImages() {
        byte[] pixels = DataFixtures.bytes(N * S * S, 5);
        DataSet b = EpochBatchesTest.tiny(N, DataOptions.DEFAULTS.withPadding(0).withFlip(false))
                .train(N, 1L).epoch(0).next();
        for (int r = 0; r < N; r++) {
            int example = b.getLabels().getRow(r).argMax().getInt(0);
            for (int p = 0; p < S * S; p++) {
                double expected = ((pixels[example * S * S + p] & 0xff) / 255.0 - 0.2860) / 0.3530;
                assertEquals(expected, b.getFeatures().getDouble(r, 0, p / S, p % S), 1e-6);
            }
        }
    }

    @Test
    void normalizationFigures() {
        assertArrayEquals(new double[]{0.2860}, ChannelStats.FASHION_MNIST.mean());
        assertArrayEquals(new double[]{0.3530}, ChannelStats.FASHION_MNIST.std());
        assertArrayEquals(new double[]{0.4914, 0.4822, 0.4465}, ChannelStats.CIFAR10.mean());
        assertArrayEquals(new double[]{0.2470, 0.2435, 0.2616}, ChannelStats.CIFAR10.std());
        assertArrayEquals(new double[]{0.5071, 0.4865, 0.4409}, ChannelStats.CIFAR100.mean());
        assertArrayEquals(new double[]{0.2673, 0.2564, 0.2762}, ChannelStats.CIFAR100.std());
        assertArrayEquals(new double[]{0.485, 0.456, 0.406}, ChannelStats.IMAGENET.mean());
        assertArrayEquals(new double[]{0.229, 0.224, 0.225}, ChannelStats.IMAGENET.std());
        assertEquals((float) ((1.0 - 0.485) / 0.229), ChannelStats.IMAGENET.table(0)[255]);
        assertEquals((float) ((0.0 - 0.2860) / 0.3530), ChannelStats.FASHION_MNIST.table(0)[0]);
        assertEquals((float) ((128 / 255.0 - 0.4465) / 0.2616), ChannelStats.CIFAR10.table(2)[128]);
    }

    @Test
    void randomResizedCropStaysInsideWithTorchvisionRanges() {
        Random random = new Random(3);
        for (int i = 0; i < 2000; i++) {
            CropBox b = CropBox.randomResized(300, 200, random);
            assertTrue(b.x >= 0 && b.y >= 0 && b.x + b.width <= 300 && b.y + b.height <= 200, b.toString());
            double area = (double) b.width * b.height / (300 * 200);
            double ratio = (double) b.width / b.height;
            assertTrue(area >= 0.08 * 0.95 && area <= 1.0, "area " + area);
            assertTrue(ratio >= 0.75 * 0.97 && ratio <= 4.0 / 3.0 * 1.03, "ratio " + ratio);
        }
        CropBox a = CropBox.randomResized(300, 200, new Random(9));
        CropBox b = CropBox.randomResized(300, 200, new Random(9));
        assertEquals(a.toString(), b.toString());
    }

    @Test
    void randomResizedCropFallsBackToTheCentre() {
        // No window of area >= 8% and ratio <= 4/3 fits in 10 rows: the widest centred 4/3 window is taken.
        CropBox b = CropBox.randomResized(1000, 10, new Random(1));
        assertEquals("(493, 0, 13x10)", b.toString());
        CropBox tall = CropBox.randomResized(10, 1000, new Random(1));
        assertEquals("(0, 493, 10x13)", tall.toString());
    }

    @Test
    void centreCropIsResizeThenCentreCrop() {
        assertEquals("(16, 16, 224x224)", CropBox.centre(256, 256, 224).toString());
        // Resize(256) makes 300x200 into 384x256; CenterCrop(224) takes 224/256 of the shorter side: 175 pixels.
        assertEquals("(62, 12, 175x175)", CropBox.centre(300, 200, 224).toString());
        // floor(32 / 0.875) = 36.
        assertEquals("(2, 2, 32x32)", CropBox.centre(36, 36, 32).toString());
    }

    @Test
    void optionsAreValidated() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DataOptions.DEFAULTS.withPadding(-1));
        assertTrue(e.getMessage().contains("padding -1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> DataOptions.DEFAULTS.withDataType(DataType.HALF));
        assertTrue(e.getMessage().contains("data type HALF: expected FLOAT or DOUBLE"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Subset.first(0));
        assertTrue(e.getMessage().contains("subset size 0"), e.getMessage());
        assertEquals(DataOptions.DEFAULTS.withPadding(2).withPadding(4), DataOptions.DEFAULTS);
        assertEquals(4, DataOptions.DEFAULTS.padding());
        assertTrue(DataOptions.DEFAULTS.flip());
        assertEquals(Subset.all(), DataOptions.DEFAULTS.subset());
        assertEquals(List.of(30, 5, 7), List.of(Subset.all().size(30), Subset.first(5).size(30),
                Subset.random(7, 1L).size(30)));
    }
}
