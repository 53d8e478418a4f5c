package org.repopt.data;

import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

/**
 * Training batches addressed by epoch: shuffling and augmentation of epoch {@code e} depend only on the seed and
 * {@code e}, so a run resumed at the start of epoch {@code e} sees exactly the batches an uninterrupted run sees.
 */
public interface EpochBatches {

    /**
     * @param epoch 0-based epoch
     * @return a fresh iterator over that epoch's batches (features NCHW, normalized; labels one-hot)
     */
    DataSetIterator epoch(int epoch);

    /** @return batches per epoch, the last one possibly smaller */
    int batchesPerEpoch();

    /** @return examples per epoch */
    long examples();
}
