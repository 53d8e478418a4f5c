package org.repopt.data;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * CIFAR-10 and CIFAR-100 (Krizhevsky 2009) in their binary versions: 32x32 RGB images, 50000 training and 10000
 * test. A CIFAR-10 record is 1 label byte then 3072 pixel bytes (1024 red, 1024 green, 1024 blue, rows top to
 * bottom), in {@code data_batch_1.bin .. data_batch_5.bin} and {@code test_batch.bin}; a CIFAR-100 record is a
 * coarse label byte, a fine label byte, then the same 3072 bytes, in {@code train.bin} and {@code test.bin}. The
 * fine labels (100 classes) are used. The pixel layout is already NCHW, so records are copied as they are.
 */
final class Cifar {

    static final int SIDE = 32;
    static final int CHANNELS = 3;
    static final int PIXELS = CHANNELS * SIDE * SIDE;
    static final String CIFAR10_FOLDER = "cifar-10-batches-bin";
    static final String CIFAR100_FOLDER = "cifar-100-binary";
    static final List<String> CIFAR10_TRAIN = List.of("data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
            "data_batch_4.bin", "data_batch_5.bin");
    static final String CIFAR10_TEST = "test_batch.bin";
    static final String CIFAR100_TRAIN = "train.bin";
    static final String CIFAR100_TEST = "test.bin";
    static final int COARSE_CLASSES = 20;

    /** CIFAR-10's classes, as in its {@code batches.meta.txt}. */
    static final List<String> CIFAR10_CLASSES = List.of("airplane", "automobile", "bird", "cat", "deer", "dog",
            "frog", "horse", "ship", "truck");
    /** CIFAR-100's fine classes, as in its {@code fine_label_names.txt}. */
    static final List<String> CIFAR100_CLASSES = List.of("apple", "aquarium_fish", "baby", "bear", "beaver", "bed",
            "bee", "beetle", "bicycle", "bottle", "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can",
            "castle", "caterpillar", "cattle", "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab",
            "crocodile", "cup", "dinosaur", "dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster",
            "house", "kangaroo", "keyboard", "lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man",
            "maple_tree", "motorcycle", "mountain", "mouse", "mushroom", "oak_tree", "orange", "orchid", "otter",
            "palm_tree", "pear", "pickup_truck", "pine_tree", "plain", "plate", "poppy", "porcupine", "possum",
            "rabbit", "raccoon", "ray", "road", "rocket", "rose", "sea", "seal", "shark", "shrew", "skunk",
            "skyscraper", "snail", "snake", "spider", "squirrel", "streetcar", "sunflower", "sweet_pepper", "table",
            "tank", "telephone", "television", "tiger", "tractor", "train", "trout", "tulip", "turtle", "wardrobe",
            "whale", "willow_tree", "wolf", "woman", "worm");

    private static final Logger LOG = LoggerFactory.getLogger(Cifar.class);

    private Cifar() {
    }

    /**
     * @param dir the folder holding the batch files, or its parent holding {@value #CIFAR10_FOLDER}
     * @return CIFAR-10 with default options
     * @throws IllegalArgumentException naming missing or malformed files
     */
    static ImageDataset cifar10(Path dir) {
        List<String> all = new ArrayList<>(CIFAR10_TRAIN);
        all.add(CIFAR10_TEST);
        Path folder = resolve("CIFAR-10", dir, CIFAR10_FOLDER, all);
        List<Path> trainFiles = new ArrayList<>();
        for (String f : CIFAR10_TRAIN) {
            trainFiles.add(folder.resolve(f));
        }
        ByteImages train = read(trainFiles, false);
        ByteImages test = read(List.of(folder.resolve(CIFAR10_TEST)), false);
        LOG.info("cifar10: {} training and {} test images from {}", train.count, test.count, folder);
        return new InMemoryDataset("cifar10", train, test, CIFAR10_CLASSES, ChannelStats.CIFAR10,
                DataOptions.DEFAULTS);
    }

    /**
     * @param dir the folder holding {@code train.bin} and {@code test.bin}, or its parent holding
     *            {@value #CIFAR100_FOLDER}
     * @return CIFAR-100 with fine labels and default options
     * @throws IllegalArgumentException naming missing or malformed files
     */
    static ImageDataset cifar100(Path dir) {
        Path folder = resolve("CIFAR-100", dir, CIFAR100_FOLDER, List.of(CIFAR100_TRAIN, CIFAR100_TEST));
        ByteImages train = read(List.of(folder.resolve(CIFAR100_TRAIN)), true);
        ByteImages test = read(List.of(folder.resolve(CIFAR100_TEST)), true);
        LOG.info("cifar100: {} training and {} test images from {}", train.count, test.count, folder);
        return new InMemoryDataset("cifar100", train, test, CIFAR100_CLASSES, ChannelStats.CIFAR100,
                DataOptions.DEFAULTS);
    }

    /** @return {@code dir} if it holds any of the files, else {@code dir/subfolder}, once all files are there */
    private static Path resolve(String what, Path dir, String subfolder, List<String> files) {
        Path folder = dir;
        if (files.stream().noneMatch(f -> Files.isRegularFile(dir.resolve(f)))
                && Files.isDirectory(dir.resolve(subfolder))) {
            folder = dir.resolve(subfolder);
        }
        List<String> missing = new ArrayList<>();
        for (String f : files) {
            if (!Files.isRegularFile(folder.resolve(f))) {
                missing.add(f);
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException(what + ": " + folder + " lacks " + String.join(", ", missing)
                    + (folder.equals(dir) ? " (nor has it a " + subfolder + " folder)" : "")
                    + "; expected the binary version's " + String.join(", ", files));
        }
        return folder;
    }

    /**
     * @param files    record files, concatenated in this order
     * @param cifar100 whether records carry a coarse and a fine label (CIFAR-100) or one label (CIFAR-10)
     * @throws IllegalArgumentException naming the file if its size is not a whole number of records or a label is
     *                                  out of range
     */
    static ByteImages read(List<Path> files, boolean cifar100) {
        int labelBytes = cifar100 ? 2 : 1;
        int record = labelBytes + PIXELS;
        long total = 0;
        long[] sizes = new long[files.size()];
        for (int i = 0; i < sizes.length; i++) {
            Path f = files.get(i);
            long size = size(f);
            sizes[i] = size;
            if (size == 0 || size % record != 0) {
                throw new IllegalArgumentException(f + ": " + size + " bytes is not a whole positive number of "
                        + record + "-byte records (" + labelBytes + " label byte" + (cifar100 ? "s" : "") + " + "
                        + PIXELS + " pixel bytes); " + size / record + " records and " + size % record
                        + " bytes left over");
            }
            total += size / record;
        }
        if (total * PIXELS > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(files + ": " + total + " records do not fit in one array");
        }
        int count = (int) total;
        byte[] pixels = new byte[count * PIXELS];
        byte[] labels = new byte[count];
        int classes = cifar100 ? CIFAR100_CLASSES.size() : CIFAR10_CLASSES.size();
        int n = 0;
        for (int i = 0; i < sizes.length; i++) {
            Path f = files.get(i);
            byte[] data = DataFiles.read(f);
            // The size was checked above; a file that changed since is reported rather than misread.
            if (data.length != sizes[i]) {
                throw new IllegalStateException(f + ": " + data.length + " bytes read, " + sizes[i]
                        + " bytes a moment before; the file changed while being read");
            }
            int records = data.length / record;
            for (int r = 0; r < records; r++) {
                int at = r * record;
                if (cifar100) {
                    DataFiles.checkLabel(f, "coarse label", data[at] & 0xff, COARSE_CLASSES, r);
                }
                int label = data[at + labelBytes - 1] & 0xff;
                DataFiles.checkLabel(f, cifar100 ? "fine label" : "label", label, classes, r);
                labels[n] = (byte) label;
                System.arraycopy(data, at + labelBytes, pixels, n * PIXELS, PIXELS);
                n++;
            }
        }
        return new ByteImages(count, CHANNELS, SIDE, SIDE, pixels, labels);
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e, e);
        }
    }
}
