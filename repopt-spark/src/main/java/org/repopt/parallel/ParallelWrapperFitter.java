package org.repopt.parallel;

import org.deeplearning4j.datasets.iterator.ExistingDataSetIterator;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.nd4j.linalg.dataset.DataSet;
import org.repopt.train.EpochFitter;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;

/**
 * Fits an epoch on several workers of one machine (CPU cores or GPUs) with DL4J's {@code ParallelWrapper} in its
 * AVERAGING mode: the same algorithm as {@code SparkEpochFitter} (each global batch split into one equal slice per
 * worker by {@link WorkerSlices}; parameters and updater state averaged every {@code K} steps), without a cluster.
 * With {@code K = 1} it is synchronous data-parallel SGD; with {@code K > 1}, local SGD.
 *
 * <p>Two things differ from a plain {@code ParallelWrapper}: the workers start each epoch from the same network
 * ({@link SnapshotTrainer}: DL4J's workers copy the network while worker 0 may already be training it), and an
 * epoch whose batch count is not a multiple of {@code K} ends with an averaging of its last, shorter round
 * (ParallelWrapper averages only every {@code K}-th step and would leave worker 0's own network in place).
 */
public final class ParallelWrapperFitter implements EpochFitter {

    private final DataParallelism parallelism;

    /**
     * @param parallelism the workers (threads; on CUDA spread over the devices) and the averaging frequency
     */
    public ParallelWrapperFitter(DataParallelism parallelism) {
        this.parallelism = Objects.requireNonNull(parallelism, "parallelism");
    }

    /** @return the workers and the averaging frequency */
    public DataParallelism parallelism() {
        return parallelism;
    }

    /**
     * Trains {@code net} in place; {@code monitor} hears of each global batch when the workers have finished it,
     * with the network's score (after an averaging: the workers' mean loss; between averagings: worker 0's).
     */
    @Override
    public void fit(ComputationGraph net, Iterator<DataSet> batches, BatchMonitor monitor) {
        Rounds rounds = new Rounds(batches, parallelism.averagingFrequency());
        fit(net, parallelism.averagingFrequency(), rounds.complete(), monitor);
        List<DataSet> last = rounds.leftOver();
        if (!last.isEmpty()) {
            fit(net, last.size(), last.iterator(), monitor);
        }
    }

    /** One ParallelWrapper run over {@code globalBatches}, averaging every {@code k} of them. */
    private void fit(ComputationGraph net, int k, Iterator<DataSet> globalBatches, BatchMonitor monitor) {
        if (!globalBatches.hasNext()) {
            return;
        }
        Slices slices = new Slices(globalBatches, parallelism.workers(), net, monitor);
        ParallelWrapper wrapper = new Wrapper(net, parallelism.workers(), k);
        try {
            wrapper.fit(new ExistingDataSetIterator(slices));
        } finally {
            wrapper.shutdown();
        }
        slices.reportFinished();
    }

    /** @return the workers and the averaging frequency, as for Spark: the same trajectory */
    @Override
    public Map<String, Object> trajectoryFields() {
        return parallelism.trajectoryFields();
    }

    @Override
    public String toString() {
        return "parallel-wrapper(" + parallelism + ")";
    }

    /** ParallelWrapper in AVERAGING mode with {@link SnapshotTrainer}s (its builder would install DL4J's own). */
    private static final class Wrapper extends ParallelWrapper {
        Wrapper(ComputationGraph net, int workers, int k) {
            super(net, workers, 0);
            this.averagingFrequency = k;
            this.averageUpdaters = true;
            WorkspaceMode mode = net.getConfiguration().getTrainingWorkspaceMode();
            this.workspaceMode = mode == null ? WorkspaceMode.ENABLED : mode;
            this.trainerContext = new SnapshotTrainer.Context();
            init();
        }
    }

    /**
     * An epoch's global batches in rounds of {@code k}: {@link #complete()} gives those of the complete rounds,
     * reading ahead at most one round; {@link #leftOver()} then holds the last, shorter round, if any.
     */
    private static final class Rounds {
        private final Iterator<DataSet> batches;
        private final int k;
        private final Deque<DataSet> ready = new ArrayDeque<>();
        private List<DataSet> leftOver = List.of();

        Rounds(Iterator<DataSet> batches, int k) {
            this.batches = batches;
            this.k = k;
        }

        Iterator<DataSet> complete() {
            return new Iterator<>() {
                @Override
                public boolean hasNext() {
                    if (ready.isEmpty() && batches.hasNext()) {
                        List<DataSet> round = new ArrayList<>(k);
                        while (round.size() < k && batches.hasNext()) {
                            round.add(batches.next());
                        }
                        if (round.size() == k) {
                            ready.addAll(round);
                        } else {
                            leftOver = round;
                        }
                    }
                    return !ready.isEmpty();
                }

                @Override
                public DataSet next() {
                    if (!hasNext()) {
                        throw new NoSuchElementException();
                    }
                    return ready.poll();
                }
            };
        }

        List<DataSet> leftOver() {
            return leftOver;
        }
    }

    /**
     * The workers' slices of each global batch in worker order, as ParallelWrapper hands them out ({@code workers}
     * at a time, the {@code w}-th to worker {@code w}); tells {@code monitor} of a global batch when the first slice
     * of the next one is asked for, which ParallelWrapper does only after the workers finished the previous one.
     */
    private static final class Slices implements Iterator<DataSet> {
        private final Iterator<DataSet> globalBatches;
        private final int workers;
        private final ComputationGraph net;
        private final BatchMonitor monitor;
        private final Deque<DataSet> pending = new ArrayDeque<>();
        private long unreported = -1;
        private boolean first = true;

        Slices(Iterator<DataSet> globalBatches, int workers, ComputationGraph net, BatchMonitor monitor) {
            this.globalBatches = globalBatches;
            this.workers = workers;
            this.net = net;
            this.monitor = monitor;
        }

        @Override
        public boolean hasNext() {
            return !pending.isEmpty() || globalBatches.hasNext();
        }

        @Override
        public DataSet next() {
            if (pending.isEmpty()) {
                if (!globalBatches.hasNext()) {
                    throw new NoSuchElementException();
                }
                reportFinished();
                DataSet batch = globalBatches.next();
                if (first && globalBatches.hasNext()) {
                    WorkerSlices.perWorker((int) batch.getFeatures().size(0), workers);
                }
                first = false;
                pending.addAll(WorkerSlices.split(batch, workers));
                unreported = batch.getFeatures().size(0);
            }
            return pending.poll();
        }

        /** Tells {@code monitor} of the global batch whose slices were all handed out, if not yet told. */
        void reportFinished() {
            if (unreported >= 0) {
                long examples = unreported;
                unreported = -1;
                monitor.batchDone(net.score(), examples);
            }
        }
    }
}
