package org.repopt.parallel;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.List;

/**
 * How a global batch is shared among data-parallel workers: worker {@code w} of {@code W} gets the {@code w}-th of
 * {@code W} consecutive runs of rows, so each worker's mini-batch is the global batch divided by the workers, and
 * every step's workers together see exactly the global batch a one-process run sees.
 *
 * <p>The global batches themselves come from the data set's seeded, per-epoch order ({@code ImageDataset.train(batch,
 * seed)}), so which example each worker gets at each step is fixed by the seed, the epoch and the number of workers:
 * not by executors, threads or timing. This is what PyTorch's {@code DistributedSampler} does with a shuffled index
 * list, with contiguous instead of strided shares.
 */
public final class WorkerSlices {

    private WorkerSlices() {
    }

    /**
     * @param globalBatch examples per global batch
     * @param workers     data-parallel workers
     * @return each worker's mini-batch
     * @throws IllegalArgumentException unless {@code globalBatch} is a positive multiple of {@code workers}
     */
    public static int perWorker(int globalBatch, int workers) {
        if (workers < 1) {
            throw new IllegalArgumentException("workers: expected at least 1, got " + workers);
        }
        if (globalBatch < workers || globalBatch % workers != 0) {
            throw new IllegalArgumentException("batch size " + globalBatch + " cannot be split into " + workers
                    + " equal worker mini-batches: choose a batch size that is a multiple of the workers ("
                    + workers * Math.max(1, Math.round((double) globalBatch / workers)) + ", for example)");
        }
        return globalBatch / workers;
    }

    /**
     * @param batch   a global batch (features, labels and any masks with the examples along dimension 0)
     * @param workers data-parallel workers
     * @return the workers' slices in worker order (element {@code w} is worker {@code w}'s), copies detached from
     * {@code batch}. An epoch's last, smaller batch of {@code n} examples gives the first {@code n % W} workers one
     * example more than the others, and when {@code n < W} only the first {@code n} workers get one (the list is
     * then shorter: the others sit this step out)
     * @throws IllegalArgumentException if {@code workers < 1}
     */
    public static List<DataSet> split(DataSet batch, int workers) {
        if (workers < 1) {
            throw new IllegalArgumentException("workers: expected at least 1, got " + workers);
        }
        long n = batch.getFeatures().size(0);
        List<DataSet> slices = new ArrayList<>(workers);
        long base = n / workers;
        long extra = n % workers;
        for (int w = 0; w < workers; w++) {
            long from = w * base + Math.min(w, extra);
            long to = from + base + (w < extra ? 1 : 0);
            if (to > from) {
                slices.add(new DataSet(rows(batch.getFeatures(), from, to), rows(batch.getLabels(), from, to),
                        rows(batch.getFeaturesMaskArray(), from, to), rows(batch.getLabelsMaskArray(), from, to)));
            }
        }
        return slices;
    }

    private static INDArray rows(INDArray a, long from, long to) {
        return a == null ? null : a.get(NDArrayIndex.interval(from, to)).dup('c');
    }
}
