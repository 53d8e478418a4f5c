package org.repopt.data;

import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

/**
 * Training batches addressed by epoch: shuffling and augmentation of epoch {@code e} depend only on the seed and
 * {@code e}, so a run resumed at the start of epoch {@code e} sees exactly the batches an uninterrupted run sees,
 * whatever the thread timing. Different epochs have different orders and augmentations.
 */
public interface EpochBatches {

    /**
     * The iterator builds the next batch on a background thread while the current one is used; its
     * {@code reset()} replays the same epoch, so a training loop asks for {@code epoch(e)} for every epoch rather
     * than resetting. Its {@code asyncSupported()} is false: it already prefetches.
     *
     * @param epoch 0-based epoch
     * @return a fresh iterator over that epoch's batches (features NCHW, normalized; labels one-hot)
     * @throws IllegalArgumentException if {@code epoch < 0}
     */
    DataSetIterator epoch(int epoch);

    /** @return batches per epoch, the last one possibly smaller */
    int batchesPerEpoch();

    /** @return examples per epoch */
    long examples();
}
