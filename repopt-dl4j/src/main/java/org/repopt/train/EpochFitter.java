package org.repopt.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.DataSet;

import java.util.Iterator;
import java.util.Map;

/**
 * Fits one epoch's batches into a network: the seam between the {@link Trainer}, which owns the data order, the
 * learning-rate schedule, label smoothing, the loss check, progress, evaluation and checkpoints, and the engine
 * that computes the optimizer steps. {@link #LOCAL} takes one step per batch in this process; the optional
 * repopt-spark module takes one data-parallel step per batch on several workers (Spark executors, or the threads
 * of DL4J's ParallelWrapper).
 *
 * <p>A fitter trains the network it is given in place: parameters, updater state and iteration count (one
 * iteration per global batch), so that the schedule, the checkpoint and {@link Trainer#resume} see one network
 * whichever engine computed the steps.
 */
public interface EpochFitter extends AutoCloseable {

    /** One optimizer step per batch in this process: {@code net.fit(batch)}. */
    EpochFitter LOCAL = new EpochFitter() {
        @Override
        public void fitEpoch(ComputationGraph net, Iterator<DataSet> batches, Steps steps) {
            while (batches.hasNext()) {
                DataSet batch = batches.next();
                net.fit(batch);
                steps.done(1, batch.getFeatures().size(0), net.score());
            }
        }

        @Override
        public String toString() {
            return "local";
        }
    };

    /**
     * @param net     the network, trained in place
     * @param batches the epoch's global batches in order, ready to fit (the network's data type, smoothed labels)
     * @param steps   told after every update of {@code net}; what it throws stops the epoch and reaches the caller
     */
    void fitEpoch(ComputationGraph net, Iterator<DataSet> batches, Steps steps);

    /**
     * @return what fixes this fitter's trajectory besides the {@link TrainConfig} (e.g. the number of workers):
     * kept in the checkpoint, so that a run resumes only under the same values; empty for {@link #LOCAL}
     */
    default Map<String, Object> trajectoryFields() {
        return Map.of();
    }

    /** Releases what the fitter holds (e.g. a Spark context it started); {@link #LOCAL} holds nothing. */
    @Override
    default void close() {
    }

    /** Told by the fitter whenever it has updated the network. */
    @FunctionalInterface
    interface Steps {
        /**
         * @param batches  global batches fitted since the last call
         * @param examples their examples
         * @param loss     the network's loss over them as it reports it ({@code score()}; for a data-parallel step
         *                 the mean of the workers' losses, each on its own slice)
         */
        void done(int batches, long examples, double loss);
    }
}
