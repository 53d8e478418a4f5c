/**
 * Data: labeled image classification sets as {@link org.repopt.data.ImageDataset}s, with per-epoch shuffling and
 * augmentation that depend only on a seed and the epoch ({@link org.repopt.data.EpochBatches}).
 *
 * <p>{@link org.repopt.data.Datasets} is the entry point: Fashion-MNIST (gzipped IDX files, read directly),
 * CIFAR-10 and CIFAR-100 (their binary formats), and ImageNet-style image folders ({@code root/train/<class>/*},
 * {@code root/val/<class>/*}, decoded lazily through DataVec's image record reader). Small sets are held in memory
 * as bytes; every batch is written straight into a reused {@code float[]} and built on a background thread one
 * batch ahead, so feeding does not show on a training profile. {@link org.repopt.data.DataOptions} selects the
 * data type (FLOAT, or DOUBLE for exactness tests), a training {@link org.repopt.data.Subset} and the small-image
 * augmentation. Malformed files raise an {@link java.lang.IllegalArgumentException} naming the file and the
 * expected vs actual content.
 */
package org.repopt.data;
