package org.repopt.data;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

import java.util.SplittableRandom;

/**
 * {@link EpochBatches} over a split: epoch {@code e} visits the chosen examples in a permutation drawn from
 * {@code (seed, e)} and augments each with a seed drawn from {@code (seed, e, example)}.
 */
final class ShuffledEpochs implements EpochBatches {

    private final ExampleSource source;
    private final int[] examples;
    private final int batchSize;
    private final long seed;
    private final DataType dataType;

    /**
     * @param source    the training split
     * @param examples  the indices used (a subset, ascending), shared and never modified
     * @param batchSize examples per batch, at least 1
     * @param seed      the data seed
     * @param dataType  FLOAT or DOUBLE
     */
    ShuffledEpochs(ExampleSource source, int[] examples, int batchSize, long seed, DataType dataType) {
        this.source = source;
        this.examples = examples;
        this.batchSize = checkBatchSize(batchSize);
        this.seed = seed;
        this.dataType = dataType;
    }

    static int checkBatchSize(int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size " + batchSize + ": expected at least 1");
        }
        return batchSize;
    }

    @Override
    public DataSetIterator epoch(int epoch) {
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch " + epoch + ": expected 0 or more");
        }
        int[] order = examples.clone();
        SplittableRandom random = new SplittableRandom(Seeds.epoch(seed, epoch));
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return new BatchIterator(source, order, batchSize, true, seed, epoch, dataType);
    }

    @Override
    public int batchesPerEpoch() {
        return (examples.length + batchSize - 1) / batchSize;
    }

    @Override
    public long examples() {
        return examples.length;
    }
}
