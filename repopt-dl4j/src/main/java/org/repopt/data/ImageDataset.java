package org.repopt.data;

import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

/**
 * A labeled image classification data set with a training and a test split, ready for a ComputationGraph with
 * one NCHW input and one softmax output.
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

    /**
     * @param batchSize examples per batch
     * @param seed      seed of the per-epoch shuffle and augmentation
     * @return the training split, shuffled and augmented per epoch
     */
    EpochBatches train(int batchSize, long seed);

    /**
     * @param batchSize examples per batch
     * @return the test split in file order, normalized, not augmented
     */
    DataSetIterator test(int batchSize);
}
