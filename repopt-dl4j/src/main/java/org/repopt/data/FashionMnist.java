package org.repopt.data;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Fashion-MNIST (Xiao, Rasul, Vollgraf 2017) from its four gzipped IDX files, read directly: 60000 training and
 * 10000 test images of 28x28 gray pixels, 10 classes.
 *
 * <p>IDX layout: a big-endian magic number {@code 0x0000 08 nd} (unsigned bytes, {@code nd} dimensions), {@code nd}
 * big-endian sizes, then the bytes. Images are {@code 0x00000803} (count, rows, columns), labels
 * {@code 0x00000801} (count).
 */
final class FashionMnist {

    /** The name of the data set. */
    static final String NAME = "fashion-mnist";
    static final String TRAIN_IMAGES = "train-images-idx3-ubyte.gz";
    static final String TRAIN_LABELS = "train-labels-idx1-ubyte.gz";
    static final String TEST_IMAGES = "t10k-images-idx3-ubyte.gz";
    static final String TEST_LABELS = "t10k-labels-idx1-ubyte.gz";
    static final List<String> FILES = List.of(TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS);
    static final int IMAGE_MAGIC = 0x00000803;
    static final int LABEL_MAGIC = 0x00000801;
    static final int SIDE = 28;
    /** The class names of the data set's README, by label. */
    static final List<String> CLASS_NAMES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    private static final Logger LOG = LoggerFactory.getLogger(FashionMnist.class);
    private static final int IMAGE_HEADER = 16;
    private static final int LABEL_HEADER = 8;

    private FashionMnist() {
    }

    /**
     * @param dir the directory holding the four files
     * @return the data set with default options
     * @throws IllegalArgumentException naming every missing file, or a malformed file and what is wrong with it
     */
    static ImageDataset load(Path dir) {
        List<String> missing = new ArrayList<>();
        for (String f : FILES) {
            if (!Files.isRegularFile(dir.resolve(f))) {
                missing.add(dir.resolve(f).toString());
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("Fashion-MNIST: missing " + String.join(", ", missing)
                    + (Files.isDirectory(dir) ? "" : " (directory " + dir + " does not exist)")
                    + "; `sudo apt-get install dataset-fashion-mnist` installs them in " + Datasets.FASHION_MNIST_DIR
                    + ", or pass the directory that holds " + String.join(", ", FILES));
        }
        ByteImages train = readSplit(dir.resolve(TRAIN_IMAGES), dir.resolve(TRAIN_LABELS));
        ByteImages test = readSplit(dir.resolve(TEST_IMAGES), dir.resolve(TEST_LABELS));
        LOG.info("{}: {} training and {} test images from {}", NAME, train.count, test.count, dir);
        return new InMemoryDataset(NAME, train, test, CLASS_NAMES, ChannelStats.FASHION_MNIST, DataOptions.DEFAULTS);
    }

    /**
     * @return one split: the images of an IDX3 file with the labels of an IDX1 file
     * @throws IllegalArgumentException naming the file that is malformed, or both when their counts differ
     */
    static ByteImages readSplit(Path imageFile, Path labelFile) {
        byte[] images = DataFiles.gunzip(imageFile);
        int count = header(imageFile, images, IMAGE_MAGIC, IMAGE_HEADER, "images");
        int rows = DataFiles.bigEndianInt(images, 8);
        int cols = DataFiles.bigEndianInt(images, 12);
        if (rows != SIDE || cols != SIDE) {
            throw new IllegalArgumentException(imageFile + ": images are " + rows + "x" + cols + " pixels, expected "
                    + SIDE + "x" + SIDE);
        }
        checkLength(imageFile, images, IMAGE_HEADER, count, (long) SIDE * SIDE, "images of " + SIDE + "x" + SIDE);
        byte[] labels = DataFiles.gunzip(labelFile);
        int labelCount = header(labelFile, labels, LABEL_MAGIC, LABEL_HEADER, "labels");
        checkLength(labelFile, labels, LABEL_HEADER, labelCount, 1, "labels");
        if (labelCount != count) {
            throw new IllegalArgumentException(labelFile + " holds " + labelCount + " labels, " + imageFile
                    + " holds " + count + " images; expected one label per image");
        }
        byte[] pixels = new byte[count * SIDE * SIDE];
        System.arraycopy(images, IMAGE_HEADER, pixels, 0, pixels.length);
        byte[] y = new byte[count];
        System.arraycopy(labels, LABEL_HEADER, y, 0, count);
        for (int i = 0; i < count; i++) {
            DataFiles.checkLabel(labelFile, "label", y[i] & 0xff, CLASS_NAMES.size(), i);
        }
        return new ByteImages(count, 1, SIDE, SIDE, pixels, y);
    }

    /** @return the item count of an IDX header, after checking its length and magic number */
    private static int header(Path file, byte[] data, int magic, int headerLength, String items) {
        if (data.length < headerLength) {
            throw new IllegalArgumentException(file + ": holds " + data.length + " bytes, too short for the "
                    + headerLength + "-byte IDX header of " + items);
        }
        int actual = DataFiles.bigEndianInt(data, 0);
        if (actual != magic) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "%s: IDX magic number 0x%08X, expected 0x%08X (unsigned bytes, %d dimensions: %s)", file, actual,
                    magic, magic & 0xff, items));
        }
        int count = DataFiles.bigEndianInt(data, 4);
        if (count < 1) {
            throw new IllegalArgumentException(file + ": header announces " + count + " " + items
                    + ", expected at least 1");
        }
        return count;
    }

    private static void checkLength(Path file, byte[] data, int headerLength, int count, long itemBytes,
                                    String items) {
        long expected = headerLength + count * itemBytes;
        if (data.length < expected) {
            throw new IllegalArgumentException(file + ": truncated: its header announces " + count + " " + items
                    + " (" + expected + " bytes with the header), the file holds only " + data.length + " bytes");
        }
        if (data.length > expected) {
            throw new IllegalArgumentException(file + ": " + (data.length - expected) + " bytes follow the " + count
                    + " " + items + " its header announces (" + expected + " bytes expected in all)");
        }
    }
}
