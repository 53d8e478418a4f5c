package org.repopt.parallel;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Data-parallel training computed in one process, one worker after the other, as the definition the engines are
 * checked against: each round, every worker starts from a copy of the network (parameters, updater state, iteration
 * count), takes its steps on its own slices ({@link WorkerSlices}), and the network becomes the plain average of the
 * workers' parameters and updater states.
 */
public final class DataParallelReference {

    /** What "exact" means in double precision: every parameter and updater state within this of the reference. */
    public static final double EXACT = 1e-10;

    private DataParallelReference() {
    }

    /**
     * @param start         the network the workers start from, left as it is
     * @param batches       the global batches, in order
     * @param workers       data-parallel workers
     * @param stepsPerRound optimizer steps between averagings ({@code K})
     * @return a copy of {@code start} trained by {@link #fit}
     */
    public static ComputationGraph trained(ComputationGraph start, List<DataSet> batches, int workers,
                                           int stepsPerRound) {
        ComputationGraph net = copy(start);
        fit(net, batches, workers, stepsPerRound);
        return net;
    }

    /**
     * @param net          trained in place
     * @param batches      the global batches, in order
     * @param workers      data-parallel workers
     * @param stepsPerRound optimizer steps between averagings ({@code K})
     */
    public static void fit(ComputationGraph net, List<DataSet> batches, int workers, int stepsPerRound) {
        for (int from = 0; from < batches.size(); from += stepsPerRound) {
            List<DataSet> round = batches.subList(from, Math.min(batches.size(), from + stepsPerRound));
            List<List<DataSet>> shares = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                shares.add(new ArrayList<>());
            }
            for (DataSet batch : round) {
                List<DataSet> slices = WorkerSlices.split(batch, workers);
                for (int w = 0; w < slices.size(); w++) {
                    shares.get(w).add(slices.get(w));
                }
            }
            INDArray params = null;
            INDArray state = null;
            int contributing = 0;
            for (List<DataSet> share : shares) {
                if (share.isEmpty()) {
                    continue;
                }
                ComputationGraph worker = copy(net);
                for (DataSet slice : share) {
                    worker.fit(slice);
                }
                params = params == null ? worker.params().dup() : params.addi(worker.params());
                INDArray s = worker.getUpdater().getStateViewArray();
                state = state == null ? s.dup() : state.addi(s);
                contributing++;
            }
            net.setParams(params.divi(contributing));
            net.getUpdater().setStateViewArray(state.divi(contributing));
            ComputationGraphConfiguration conf = net.getConfiguration();
            conf.setIterationCount(conf.getIterationCount() + round.size());
        }
    }

    /**
     * Asserts that {@code net} holds the reference's parameters and updater state to 1e-10 (max abs), and its
     * iteration count.
     */
    public static void assertMatches(ComputationGraph reference, ComputationGraph net) {
        double params = maxAbsDiff(reference.params(), net.params());
        double state = maxAbsDiff(reference.getUpdater().getStateViewArray(), net.getUpdater().getStateViewArray());
        assertTrue(params <= EXACT, "parameters differ by " + params);
        assertTrue(state <= EXACT, "updater state differs by " + state);
        assertEquals(reference.getIterationCount(), net.getIterationCount(), "iteration count");
    }

    /**
     * @return a copy of {@code net} with its parameters, updater state and counts ({@code ComputationGraph.clone()}
     * copies the first two only, which would restart a learning-rate schedule)
     */
    public static ComputationGraph copy(ComputationGraph net) {
        ComputationGraph copy = net.clone();
        copy.getConfiguration().setIterationCount(net.getIterationCount());
        copy.getConfiguration().setEpochCount(net.getEpochCount());
        return copy;
    }

    /** @return {@code max |a - b|} */
    public static double maxAbsDiff(INDArray a, INDArray b) {
        return Transforms.abs(a.sub(b)).maxNumber().doubleValue();
    }
}
