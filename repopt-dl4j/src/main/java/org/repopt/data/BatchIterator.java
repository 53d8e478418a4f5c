package org.repopt.data;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.concurrency.AffinityManager;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.DoubleBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/**
 * Batches of a fixed example order, each built on a {@link DataThreads#PREFETCH} thread while the previous one is
 * in use. Builds run strictly one after the other (each is chained to the previous), so one reused
 * {@code float[]} holds every batch of this iterator before it is copied into a fresh INDArray: the consumer may
 * keep the batches it was given. Batch {@code k} depends only on the order, the seed and the epoch.
 */
final class BatchIterator implements DataSetIterator {

    private final transient ExampleSource source;
    private final int[] order;
    private final int batchSize;
    private final boolean augment;
    private final long seed;
    private final int epoch;
    private final DataType dataType;
    private final int exampleLength;
    private final int numBatches;
    /** The batch buffer, touched only by the one build in flight. */
    private final float[] features;
    private final float[] labels;

    private int next;
    private transient CompletableFuture<DataSet> pending;
    private DataSetPreProcessor preProcessor;

    /**
     * @param source    the split
     * @param order     indices into the split, in batch order
     * @param batchSize examples per batch, the last batch possibly smaller
     * @param augment   whether to augment (training) or not (evaluation)
     * @param seed      the run's data seed
     * @param epoch     the epoch, which with the seed fixes every example's augmentation
     * @param dataType  FLOAT or DOUBLE
     */
    BatchIterator(ExampleSource source, int[] order, int batchSize, boolean augment, long seed, int epoch,
                  DataType dataType) {
        this.source = source;
        this.order = order;
        this.batchSize = batchSize;
        this.augment = augment;
        this.seed = seed;
        this.epoch = epoch;
        this.dataType = dataType;
        this.exampleLength = source.format().exampleLength();
        this.numBatches = (order.length + batchSize - 1) / batchSize;
        int firstBatch = Math.min(batchSize, order.length);
        this.features = new float[firstBatch * exampleLength];
        this.labels = new float[firstBatch * source.format().numClasses()];
        this.pending = numBatches > 0 ? CompletableFuture.supplyAsync(() -> build(0), DataThreads.PREFETCH) : null;
    }

    @Override
    public boolean hasNext() {
        return next < numBatches;
    }

    @Override
    public DataSet next() {
        if (!hasNext()) {
            throw new NoSuchElementException("all " + numBatches + " batches of this epoch were delivered");
        }
        DataSet batch = await(pending);
        next++;
        pending = next < numBatches ? chain(pending, next) : null;
        if (preProcessor != null) {
            preProcessor.preProcess(batch);
        }
        return batch;
    }

    /**
     * @throws UnsupportedOperationException always: the batch size is fixed, since batch {@code k}'s content is
     *                                       part of the reproducibility contract
     */
    @Override
    public DataSet next(int num) {
        throw new UnsupportedOperationException("next(" + num + "): the batch size is fixed at " + batchSize
                + " so that batches are reproducible; call next()");
    }

    @Override
    public int inputColumns() {
        return exampleLength;
    }

    @Override
    public int totalOutcomes() {
        return source.format().numClasses();
    }

    @Override
    public boolean resetSupported() {
        return true;
    }

    /** @return false: this iterator prefetches itself, DL4J's async wrapper would only add a copy */
    @Override
    public boolean asyncSupported() {
        return false;
    }

    /** Restarts the same sequence of batches (the same epoch). */
    @Override
    public void reset() {
        next = 0;
        if (numBatches > 0) {
            // Chained after any build still in flight, which owns the buffer until it ends; that build's batch was
            // never requested, so its outcome is dropped (a failure recurs when the batch is built again).
            CompletableFuture<DataSet> previous = pending == null ? CompletableFuture.completedFuture(null) : pending;
            pending = previous.handle((batch, failure) -> 0)
                    .thenApplyAsync(ignored -> build(0), DataThreads.PREFETCH);
        }
    }

    @Override
    public int batch() {
        return batchSize;
    }

    @Override
    public void setPreProcessor(DataSetPreProcessor preProcessor) {
        this.preProcessor = preProcessor;
    }

    @Override
    public DataSetPreProcessor getPreProcessor() {
        return preProcessor;
    }

    @Override
    public List<String> getLabels() {
        return source.format().classNames();
    }

    private CompletableFuture<DataSet> chain(CompletableFuture<DataSet> previous, int batch) {
        return previous.thenApplyAsync(ignored -> build(batch), DataThreads.PREFETCH);
    }

    private static DataSet await(CompletableFuture<DataSet> future) {
        try {
            return future.join();
        } catch (CompletionException e) {
            throw rethrow(e.getCause());
        }
    }

    /** Rethrows a builder's failure as it was thrown, so its message (file, expected vs actual) reaches the caller. */
    private static RuntimeException rethrow(Throwable cause) {
        if (cause instanceof RuntimeException) {
            throw (RuntimeException) cause;
        }
        if (cause instanceof Error) {
            throw (Error) cause;
        }
        throw new IllegalStateException("building a batch failed: " + cause, cause);
    }

    private DataSet build(int batch) {
        int from = batch * batchSize;
        int n = Math.min(batchSize, order.length - from);
        if (source.parallel() && n > 1) {
            writeParallel(from, n);
        } else {
            for (int i = 0; i < n; i++) {
                int index = order[from + i];
                source.write(index, augment, Seeds.example(seed, epoch, index), features, i * exampleLength);
            }
        }
        int classes = source.format().numClasses();
        Arrays.fill(labels, 0, n * classes, 0f);
        for (int i = 0; i < n; i++) {
            labels[i * classes + source.label(order[from + i])] = 1f;
        }
        INDArray x = toArray(features, n * exampleLength,
                new long[]{n, source.format().channels(), source.format().height(), source.format().width()});
        INDArray y = toArray(labels, n * classes, new long[]{n, classes});
        return new DataSet(x, y);
    }

    private void writeParallel(int from, int n) {
        List<Callable<Void>> tasks = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int index = order[from + i];
            int offset = i * exampleLength;
            tasks.add(() -> {
                source.write(index, augment, Seeds.example(seed, epoch, index), features, offset);
                return null;
            });
        }
        try {
            // invokeAll returns once every task has ended, so no decoder still writes into the buffer; the first
            // failure in batch order is reported, the same one whichever thread finished first.
            for (Future<Void> f : DataThreads.DECODE.invokeAll(tasks)) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while decoding a batch of epoch " + epoch, e);
        } catch (ExecutionException e) {
            throw rethrow(e.getCause());
        }
    }

    /**
     * Copies the first {@code length} values of the buffer into a fresh array: one bulk copy into the new array's
     * off-heap memory (for FLOAT; a converting loop for DOUBLE), several times faster than {@code Nd4j.create}.
     */
    private INDArray toArray(float[] buffer, int length, long[] shape) {
        INDArray array = Nd4j.createUninitialized(dataType, shape, 'c');
        if (dataType == DataType.FLOAT) {
            array.data().asNioFloat().put(buffer, 0, length);
        } else {
            DoubleBuffer out = array.data().asNioDouble();
            for (int i = 0; i < length; i++) {
                out.put(i, buffer[i]);
            }
        }
        // Written through the host view: on a GPU backend the device copy must be refreshed from it.
        Nd4j.getAffinityManager().tagLocation(array, AffinityManager.Location.HOST);
        return array;
    }
}
