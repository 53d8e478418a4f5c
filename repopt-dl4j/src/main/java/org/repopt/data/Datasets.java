package org.repopt.data;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The data sets, by name: each factory reads (small sets) or lists (image folders) the files now, so a missing or
 * malformed file fails here with a message naming it, and returns the set with {@link DataOptions#DEFAULTS}.
 *
 * <pre>{@code
 * ImageDataset data = Datasets.fashionMnist(null).withOptions(DataOptions.DEFAULTS.withSubset(Subset.first(6000)));
 * EpochBatches train = data.train(64, seed);
 * for (int e = 0; e < epochs; e++) { graph.fit(train.epoch(e)); }
 * }</pre>
 */
public final class Datasets {

    /** Where the Debian package {@code dataset-fashion-mnist} installs Fashion-MNIST. */
    public static final Path FASHION_MNIST_DIR = Path.of("/usr/share/datasets/fashion-mnist");

    /** The network input side of image folders: 224, ImageNet's usual crop. */
    public static final int DEFAULT_IMAGE_SIZE = 224;

    private Datasets() {
    }

    /**
     * Fashion-MNIST from {@code train-images-idx3-ubyte.gz}, {@code train-labels-idx1-ubyte.gz},
     * {@code t10k-images-idx3-ubyte.gz} and {@code t10k-labels-idx1-ubyte.gz}: 1x28x28 inputs, 10 classes,
     * normalized with mean 0.2860 and std 0.3530.
     *
     * @param dirOrNull the directory holding the four files, or {@code null} for {@link #FASHION_MNIST_DIR}
     * @return the data set
     * @throws IllegalArgumentException naming the missing files (and how to install them) or a malformed file
     */
    public static ImageDataset fashionMnist(Path dirOrNull) {
        return FashionMnist.load(dirOrNull == null ? FASHION_MNIST_DIR : dirOrNull);
    }

    /**
     * CIFAR-10, binary version: {@code data_batch_1.bin .. data_batch_5.bin} and {@code test_batch.bin}; 3x32x32
     * inputs, 10 classes.
     *
     * @param dir the folder holding the files, or its parent holding {@code cifar-10-batches-bin/}
     * @return the data set
     * @throws IllegalArgumentException naming missing or malformed files
     */
    public static ImageDataset cifar10(Path dir) {
        return Cifar.cifar10(Objects.requireNonNull(dir, "CIFAR-10 directory"));
    }

    /**
     * CIFAR-100, binary version: {@code train.bin} and {@code test.bin}; 3x32x32 inputs, the 100 fine classes.
     *
     * @param dir the folder holding the files, or its parent holding {@code cifar-100-binary/}
     * @return the data set
     * @throws IllegalArgumentException naming missing or malformed files
     */
    public static ImageDataset cifar100(Path dir) {
        return Cifar.cifar100(Objects.requireNonNull(dir, "CIFAR-100 directory"));
    }

    /**
     * An ImageNet-style image folder with inputs of {@value #DEFAULT_IMAGE_SIZE} pixels; see
     * {@link #imageFolder(Path, int)}.
     *
     * @param root the folder holding {@code train/} and {@code val/}
     * @return the data set
     */
    public static ImageDataset imageFolder(Path root) {
        return imageFolder(root, DEFAULT_IMAGE_SIZE);
    }

    /**
     * An ImageNet-style image folder: {@code root/train/<class>/*.{jpg,jpeg,png}} and {@code root/val/<class>/*},
     * classes numbered in sorted folder-name order. Images are decoded when their batch is built: training images
     * get a random-resized crop (area 8%..100%, aspect ratio 3/4..4/3) and a flip, validation images a resize to
     * {@code floor(size / 0.875)} and a centre crop; both end at {@code 3 x size x size}, normalized with the
     * ImageNet figures.
     *
     * @param root the folder holding {@code train/} and {@code val/}
     * @param size side of the network input, at least 1
     * @return the data set
     * @throws IllegalArgumentException if a folder is missing, train and val have different class folders, or a
     *                                  class folder holds no image
     */
    public static ImageDataset imageFolder(Path root, int size) {
        return ImageFolderDataset.load(Objects.requireNonNull(root, "image folder root"), size);
    }
}
