package org.repopt.data;

import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

import java.util.List;

/**
 * A labeled image classification data set with a training and a test split, ready for a ComputationGraph with
 * one NCHW input and one softmax output. Features are normalized per channel; labels are one-hot; both have the
 * type of {@link DataOptions#dataType()}. Instances are immutable: {@link #withOptions} returns a new view that
 * shares the loaded data. Obtain one from {@link Datasets}.
 */
public interface ImageDataset {

    /** @return a short name, e.g. {@code fashion-mnist} */
    String name();

    /** @return image channels of the network input */
    int channels();

    /** @return image height of the network input (after any crop) */
    int height();

    /** @return image width of the network input (after any crop) */
    int width();

    /** @return the number of classes */
    int numClasses();

    /** @return the class names, index {@code i} naming label {@code i} */
    List<String> classNames();

    /**
     * @return how 8-bit pixels become the network's input values (a formula with its figures), as an exported model
     * documents its input
     */
    default String inputNormalization() {
        return "as the data set " + name() + " delivers its batches";
    }

    /** @return channels, height, width and class names in one value */
    default ImageFormat format() {
        return new ImageFormat(channels(), height(), width(), classNames());
    }

    /** @return training examples used, after the {@link DataOptions#subset() subset} */
    int trainExamples();

    /** @return test examples */
    int testExamples();

    /** @return the options this view delivers batches with */
    DataOptions options();

    /**
     * @param options data type, training subset and augmentation
     * @return a view of the same data with these options
     * @throws IllegalArgumentException if the subset is larger than the training split, or the padding is not
     *                                  smaller than the image side
     */
    ImageDataset withOptions(DataOptions options);

    /**
     * @param batchSize examples per batch
     * @param seed      seed of the per-epoch shuffle and augmentation
     * @return the training split, shuffled and augmented per epoch
     * @throws IllegalArgumentException if {@code batchSize < 1}
     */
    EpochBatches train(int batchSize, long seed);

    /**
     * @param batchSize examples per batch
     * @return the test split in file order, normalized, not augmented
     * @throws IllegalArgumentException if {@code batchSize < 1}
     */
    DataSetIterator test(int batchSize);
}
