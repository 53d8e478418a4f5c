package org.repopt.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.repopt.data.DataFixtures.image;
import static org.repopt.data.DataFixtures.write;

class ImageFolderTest {

    private static final int RED = 0xFF0000;
    private static final int GREEN = 0x00FF00;
    private static final int BLUE = 0x0000FF;
    private static final int SIZE = 16;

    @TempDir
    Path root;

    /** Classes ant (red PNGs), cat (green PNGs), dog (blue JPEGs with ImageNet's upper-case extension). */
    private void folder() {
        for (String split : List.of("train", "val")) {
            int n = split.equals("train") ? 3 : 1;
            for (int i = 0; i < n; i++) {
                image(root.resolve(split + "/ant/a" + i + ".png"), 40, 30, RED);
                image(root.resolve(split + "/cat/c" + i + ".png"), 30, 40, GREEN);
                image(root.resolve(split + "/dog/d" + i + ".JPEG"), 24, 24, BLUE);
            }
        }
        // Not an image: skipped like torchvision's ImageFolder skips it.
        write(root.resolve("train/ant/notes.txt"), new byte[]{1, 2, 3});
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + e.getMessage() + "' lacks '" + part + "'");
        }
    }

    @Test
    void listsSortedClassesAndDecodesNormalizedRgb() {
        folder();
        ImageDataset data = Datasets.imageFolder(root, SIZE);
        assertEquals(List.of("ant", "cat", "dog"), data.classNames());
        assertEquals(3, data.channels());
        assertEquals(SIZE, data.height());
        assertEquals(9, data.trainExamples());
        assertEquals(3, data.testExamples());
        DataSet val = data.test(3).next();
        assertArrayEquals(new long[]{3, 3, SIZE, SIZE}, val.getFeatures().shape());
        assertArrayEquals(new long[]{3, 3}, val.getLabels().shape());
        double[] mean = {0.485, 0.456, 0.406};
        double[] std = {0.229, 0.224, 0.225};
        for (int i = 0; i < 3; i++) {
            assertEquals(i, val.getLabels().argMax(1).getInt(i));
            // Example i is pure channel i: red, green, blue (RGB order, though OpenCV decodes BGR).
            for (int c = 0; c < 3; c++) {
                double expected = ((c == i ? 1.0 : 0.0) - mean[c]) / std[c];
                INDArray plane = val.getFeatures().get(NDArrayIndex.point(i),
                        NDArrayIndex.point(c));
                // PNG is lossless; the JPEG (example 2) may be off by a few levels.
                double tolerance = i == 2 ? 8 / 255.0 / std[c] : 1e-6;
                assertEquals(expected, plane.minNumber().doubleValue(), tolerance, "example " + i + " channel " + c);
                assertEquals(expected, plane.maxNumber().doubleValue(), tolerance, "example " + i + " channel " + c);
            }
        }
    }

    @Test
    void trainingEpochsAreReproducibleAndDiffer() {
        folder();
        // Left half black, right half white: crops and flips change the pixels.
        for (int i = 0; i < 3; i++) {
            BufferedImage img = new BufferedImage(48, 32, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 32; y++) {
                for (int x = 24; x < 48; x++) {
                    img.setRGB(x, y, 0xFFFFFF);
                }
            }
            image(root.resolve("train/cat/half" + i + ".png"), img);
        }
        EpochBatches train = Datasets.imageFolder(root, SIZE).train(4, 11L);
        assertEquals(12, train.examples());
        assertEquals(3, train.batchesPerEpoch());
        List<DataSet> a = all(train.epoch(0));
        List<DataSet> b = all(train.epoch(0));
        List<DataSet> c = all(train.epoch(1));
        assertEquals(3, a.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).getFeatures(), b.get(i).getFeatures());
            assertEquals(a.get(i).getLabels(), b.get(i).getLabels());
        }
        assertNotEquals(concat(a), concat(c));
    }

    private static List<DataSet> all(DataSetIterator it) {
        List<DataSet> out = new ArrayList<>();
        while (it.hasNext()) {
            out.add(it.next());
        }
        return out;
    }

    private static INDArray concat(List<DataSet> batches) {
        return Nd4j.concat(0, batches.stream().map(DataSet::getFeatures)
                .toArray(INDArray[]::new));
    }

    @Test
    void grayAndSixteenBitImagesBecomeThreeByteChannels() {
        folder();
        BufferedImage gray16 = new BufferedImage(20, 20, BufferedImage.TYPE_USHORT_GRAY);
        for (int y = 0; y < 20; y++) {
            for (int x = 0; x < 20; x++) {
                gray16.getRaster().setSample(x, y, 0, 65535);
            }
        }
        image(root.resolve("val/dog/white16.png"), gray16);
        DataSet val = Datasets.imageFolder(root, SIZE).test(4).next();
        // Sorted by path: ant/a0, cat/c0, dog/d0.JPEG, dog/white16.png.
        for (int c = 0; c < 3; c++) {
            double[] mean = {0.485, 0.456, 0.406};
            double[] std = {0.229, 0.224, 0.225};
            assertEquals((1.0 - mean[c]) / std[c], val.getFeatures().getDouble(3, c, 8, 8), 1e-6);
        }
    }

    @Test
    void unreadableImageNamesTheFileWhenItsBatchIsBuilt() {
        folder();
        Path broken = root.resolve("val/cat/broken.png");
        write(broken, "this is not a PNG".getBytes(StandardCharsets.US_ASCII));
        DataSetIterator val = Datasets.imageFolder(root, SIZE).test(8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, val::next);
        assertMentions(e, broken.toString(), "cannot read or decode the image");
    }

    @Test
    void classFoldersOfTrainAndValMustMatch() {
        folder();
        image(root.resolve("train/emu/e.png"), 8, 8, RED);
        image(root.resolve("val/fox/f.png"), 8, 8, RED);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Datasets.imageFolder(root, SIZE));
        assertMentions(e, root.toString(), "train has 4 class folders, val has 4",
                "Only in train: [emu]; only in val: [fox]");
    }

    @Test
    void classFolderWithoutImages() throws Exception {
        folder();
        Files.createDirectories(root.resolve("train/emu"));
        Files.createDirectories(root.resolve("val/emu"));
        image(root.resolve("val/emu/e.png"), 8, 8, RED);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Datasets.imageFolder(root, SIZE));
        assertMentions(e, root.resolve("train/emu").toString(), "a class folder without images");
    }

    @Test
    void imageOutsideAClassFolder() {
        folder();
        image(root.resolve("val/stray.png"), 8, 8, RED);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Datasets.imageFolder(root, SIZE));
        assertMentions(e, root.resolve("val/stray.png").toString(), "an image outside a class folder");
    }

    @Test
    void missingValFolder() {
        image(root.resolve("train/ant/a.png"), 8, 8, RED);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Datasets.imageFolder(root, SIZE));
        assertMentions(e, "no val folder", root + "/val/<class>/");
    }
}
