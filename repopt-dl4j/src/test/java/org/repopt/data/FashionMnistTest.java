package org.repopt.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.repopt.data.DataFixtures.bytes;
import static org.repopt.data.DataFixtures.gzip;
import static org.repopt.data.DataFixtures.idx;
import static org.repopt.data.DataFixtures.labels;
import static org.repopt.data.DataFixtures.write;

class FashionMnistTest {

    @TempDir
    Path dir;

    @Test
    void loadsGzippedIdxFilesInFileOrder() {
        DataFixtures.fashionMnist(dir, 20, 7);
        ImageDataset data = Datasets.fashionMnist(dir);
        assertEquals("fashion-mnist", data.name());
        assertEquals(1, data.channels());
        assertEquals(28, data.height());
        assertEquals(28, data.width());
        assertEquals(10, data.numClasses());
        assertEquals("Ankle boot", data.classNames().get(9));
        assertEquals(20, data.trainExamples());
        assertEquals(7, data.testExamples());

        DataSetIterator test = data.test(5);
        DataSet first = test.next();
        assertArrayEquals(new long[]{5, 1, 28, 28}, first.getFeatures().shape());
        assertEquals(DataType.FLOAT, first.getFeatures().dataType());
        assertEquals(DataType.FLOAT, first.getLabels().dataType());
        byte[] pixels = bytes(7 * 784, 2);
        for (int i = 0; i < 5; i++) {
            assertEquals(i % 10, first.getLabels().getRow(i).argMax().getInt(0));
            assertEquals(1.0, first.getLabels().getRow(i).sumNumber().doubleValue(), 0.0);
            for (int p : new int[]{0, 100, 783}) {
                double expected = ((pixels[i * 784 + p] & 0xff) / 255.0 - 0.2860) / 0.3530;
                assertEquals(expected, first.getFeatures().getDouble(i, 0, p / 28, p % 28), 1e-6);
            }
        }
        assertArrayEquals(new long[]{2, 1, 28, 28}, test.next().getFeatures().shape());
        assertFalse(test.hasNext());
    }

    @Test
    void missingFilesNameTheFileAndThePackage() {
        DataFixtures.fashionMnist(dir, 3, 3);
        Path gone = dir.resolve(FashionMnist.TEST_LABELS);
        assertTrue(gone.toFile().delete());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Datasets.fashionMnist(dir));
        // Only the missing file is listed as missing.
        assertTrue(e.getMessage().contains("missing " + gone + ";"), e.getMessage());
        assertTrue(e.getMessage().contains("`sudo apt-get install dataset-fashion-mnist`"), e.getMessage());
        assertTrue(e.getMessage().contains("or pass the directory"), e.getMessage());
    }

    private IllegalArgumentException loadFails() {
        return assertThrows(IllegalArgumentException.class, () -> Datasets.fashionMnist(dir));
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + e.getMessage() + "' lacks '" + part + "'");
        }
    }

    @Test
    void wrongImageMagicNumber() {
        DataFixtures.fashionMnist(dir, 3, 3);
        write(dir.resolve(FashionMnist.TRAIN_IMAGES), gzip(idx(0x00000801, new int[]{3, 28, 28}, bytes(3 * 784, 1))));
        assertMentions(loadFails(), FashionMnist.TRAIN_IMAGES, "magic number 0x00000801, expected 0x00000803");
    }

    @Test
    void wrongLabelMagicNumber() {
        DataFixtures.fashionMnist(dir, 3, 3);
        write(dir.resolve(FashionMnist.TRAIN_LABELS), gzip(idx(0x00000803, new int[]{3}, labels(3, 10))));
        assertMentions(loadFails(), FashionMnist.TRAIN_LABELS, "magic number 0x00000803, expected 0x00000801");
    }

    @Test
    void wrongImageDimensions() {
        DataFixtures.fashionMnist(dir, 3, 3);
        write(dir.resolve(FashionMnist.TEST_IMAGES), gzip(idx(0x00000803, new int[]{3, 32, 28}, bytes(3 * 896, 1))));
        assertMentions(loadFails(), FashionMnist.TEST_IMAGES, "images are 32x28 pixels, expected 28x28");
    }

    @Test
    void truncatedImageData() {
        DataFixtures.fashionMnist(dir, 3, 3);
        write(dir.resolve(FashionMnist.TRAIN_IMAGES), gzip(idx(0x00000803, new int[]{3, 28, 28}, bytes(2 * 784, 1))));
        assertMentions(loadFails(), FashionMnist.TRAIN_IMAGES, "truncated", "announces 3 images",
                (16 + 3 * 784) + " bytes", "holds only " + (16 + 2 * 784) + " bytes");
    }

    @Test
    void bytesAfterTheAnnouncedImages() {
        DataFixtures.fashionMnist(dir, 3, 3);
        write(dir.resolve(FashionMnist.TRAIN_IMAGES), gzip(idx(0x00000803, new int[]{3, 28, 28}, bytes(3 * 784 + 5, 1))));
        assertMentions(loadFails(), FashionMnist.TRAIN_IMAGES, "5 bytes follow the 3 images");
    }

    @Test
    void headerTooShort() {
        DataFixtures.fashionMnist(dir, 3, 3);
        write(dir.resolve(FashionMnist.TRAIN_LABELS), gzip(new byte[]{0, 0, 8}));
        assertMentions(loadFails(), FashionMnist.TRAIN_LABELS, "holds 3 bytes, too short for the 8-byte IDX header");
    }

    @Test
    void noImages() {
        DataFixtures.fashionMnist(dir, 3, 3);
        write(dir.resolve(FashionMnist.TEST_IMAGES), gzip(idx(0x00000803, new int[]{0, 28, 28}, new byte[0])));
        assertMentions(loadFails(), FashionMnist.TEST_IMAGES, "header announces 0 images, expected at least 1");
    }

    @Test
    void labelAndImageCountsDiffer() {
        DataFixtures.fashionMnist(dir, 3, 3);
        write(dir.resolve(FashionMnist.TRAIN_LABELS), gzip(idx(0x00000801, new int[]{2}, labels(2, 10))));
        assertMentions(loadFails(), FashionMnist.TRAIN_LABELS + " holds 2 labels",
                FashionMnist.TRAIN_IMAGES + " holds 3 images");
    }

    @Test
    void labelOutOfRange() {
        DataFixtures.fashionMnist(dir, 3, 3);
        write(dir.resolve(FashionMnist.TEST_LABELS), gzip(idx(0x00000801, new int[]{3}, new byte[]{1, 10, 2})));
        assertMentions(loadFails(), FashionMnist.TEST_LABELS, "label 10 at record 1, expected 0..9");
    }

    @Test
    void notGzipped() {
        DataFixtures.fashionMnist(dir, 3, 3);
        write(dir.resolve(FashionMnist.TRAIN_IMAGES), idx(0x00000803, new int[]{3, 28, 28}, bytes(3 * 784, 1)));
        assertMentions(loadFails(), FashionMnist.TRAIN_IMAGES, "not valid gzip data");
    }

    @Test
    void truncatedGzipStream() {
        DataFixtures.fashionMnist(dir, 3, 3);
        byte[] gz = gzip(idx(0x00000803, new int[]{3, 28, 28}, bytes(3 * 784, 1)));
        write(dir.resolve(FashionMnist.TRAIN_IMAGES), Arrays.copyOf(gz, gz.length / 2));
        assertMentions(loadFails(), FashionMnist.TRAIN_IMAGES, "gzip data ends early, the file is truncated");
    }

    @Test
    void realFashionMnistHas60000TrainingAnd10000TestImages() {
        assumeTrue(FashionMnist.FILES.stream().allMatch(f -> Files.isRegularFile(Datasets.FASHION_MNIST_DIR.resolve(f))),
                "Fashion-MNIST is not installed in " + Datasets.FASHION_MNIST_DIR);
        ImageDataset data = Datasets.fashionMnist(null);
        assertEquals(60000, data.trainExamples());
        assertEquals(10000, data.testExamples());
        EpochBatches train = data.train(64, 1);
        assertEquals(60000, train.examples());
        assertEquals(938, train.batchesPerEpoch());
        DataSet batch = train.epoch(0).next();
        assertArrayEquals(new long[]{64, 1, 28, 28}, batch.getFeatures().shape());
        assertArrayEquals(new long[]{64, 10}, batch.getLabels().shape());
        // The normalization figures are the training set's own: the unaugmented mean and std come out near 0 and 1.
        DataSetIterator test = data.test(10000);
        DataSet all = test.next();
        assertEquals(0.0, all.getFeatures().meanNumber().doubleValue(), 0.02);
        assertEquals(1.0, all.getFeatures().stdNumber().doubleValue(), 0.02);
    }
}
