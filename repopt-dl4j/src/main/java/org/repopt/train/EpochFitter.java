package org.repopt.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.DataSet;

import java.util.Iterator;
import java.util.Map;

/**
 * How the {@link Trainer} fits one epoch's batches: the replaceable step inside its loop. Everything around it (the
 * run folder, the schedule, label smoothing, per-epoch seeding, the divergence checks, evaluation, checkpoints,
 * metrics, resume) stays the Trainer's. {@link #LOCAL} is the default: one {@code net.fit(batch)} per batch in this
 * process. Another implementation may fit the same batches elsewhere as long as it keeps the contract below, and the
 * run keeps its checkpoints, metrics and exact resume: the optional module repopt-spark fits them data-parallel on
 * Spark executors or on the threads of DL4J's ParallelWrapper.
 *
 * <pre>{@code
 * Trainer trainer = new Trainer(config, System.out).withEpochFitter(myFitter);
 * }</pre>
 */
@FunctionalInterface
public interface EpochFitter extends AutoCloseable {

    /** Fits every batch in this process, one update each: {@code net.fit(batch)}. */
    EpochFitter LOCAL = (net, batches, monitor) -> {
        while (batches.hasNext()) {
            DataSet batch = batches.next();
            net.fit(batch);
            monitor.batchDone(net.score(), batch.getFeatures().size(0));
        }
    };

    /**
     * Trains {@code net} on one epoch's batches, in order. Contract: one update (one DL4J iteration) per batch; the
     * network's parameters, updater state and iteration count advance; its epoch count does not (the Trainer counts
     * epochs); {@code monitor} is told about each batch once it is fitted (a fitter that updates the network once
     * per several batches, as local SGD does, tells it about each of them after that update).
     *
     * @param net     the network, configured with the run's learning-rate schedule
     * @param batches the epoch's batches, ready to fit (the network's data type, labels smoothed)
     * @param monitor told each batch's loss and size; it throws {@link TrainingDivergedException} on a non-finite
     *                loss, which must propagate
     */
    void fit(ComputationGraph net, Iterator<DataSet> batches, BatchMonitor monitor);

    /**
     * @return what fixes this fitter's trajectory besides the {@link TrainConfig} (e.g. the number of data-parallel
     * workers): the checkpoint keeps it, so that a run resumes only under the same values; empty for {@link #LOCAL}
     */
    default Map<String, Object> trajectoryFields() {
        return Map.of();
    }

    /** Releases what the fitter holds (e.g. a Spark context it started); {@link #LOCAL} holds nothing. */
    @Override
    default void close() {
    }

    /** What the Trainer wants to know after each batch: it checks the loss and drives the progress bar and metrics. */
    @FunctionalInterface
    interface BatchMonitor {
        /**
         * @param loss     the batch's loss ({@code net.score()} after its update)
         * @param examples the batch's example count
         * @throws TrainingDivergedException when the loss is NaN or infinite
         */
        void batchDone(double loss, long examples);
    }
}
