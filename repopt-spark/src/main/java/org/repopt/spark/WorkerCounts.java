package org.repopt.spark;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.TrainingHook;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * Gives each worker's copy of the network the driver's iteration and epoch counts before its first step of a round.
 *
 * <p>Why: dl4j-spark builds a worker's network from {@code ComputationGraphConfiguration.clone()}, and in DL4J
 * 1.0.0-M2.1 that clone does not copy the counts: every worker step would run at iteration 0, so a learning-rate
 * schedule (the trainer's warm-up and cosine) would be stuck at its first value on Spark. With the counts set, worker
 * step {@code i} of a round starting at iteration {@code t} runs at iteration {@code t + i}, as in one process.
 */
final class WorkerCounts implements TrainingHook {

    private static final long serialVersionUID = 1L;

    private final int iteration;
    private final int epoch;
    /** Per deserialized copy, that is per worker and round. */
    private transient boolean set;

    /**
     * @param iteration the driver network's iteration count at the start of the round
     * @param epoch     its epoch count
     */
    WorkerCounts(int iteration, int epoch) {
        this.iteration = iteration;
        this.epoch = epoch;
    }

    @Override
    public void preUpdate(DataSet minibatch, Model model) {
        setCounts(model);
    }

    @Override
    public void preUpdate(MultiDataSet minibatch, Model model) {
        setCounts(model);
    }

    private void setCounts(Model model) {
        if (!set) {
            ComputationGraphConfiguration conf = ((ComputationGraph) model).getConfiguration();
            conf.setIterationCount(iteration);
            conf.setEpochCount(epoch);
            set = true;
        }
    }

    @Override
    public void postUpdate(DataSet minibatch, Model model) {
    }

    @Override
    public void postUpdate(MultiDataSet minibatch, Model model) {
    }
}
