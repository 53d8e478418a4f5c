package org.repopt.parallel;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.ArrayList;
import java.util.List;

/**
 * Data-parallel training computed in one process, one worker after the other, as the definition the engines are
 * checked against: each round, every worker starts from a copy of the network (parameters and updater state), takes
 * its steps on its own slices ({@link WorkerSlices}), and the network becomes the plain average of the workers'
 * parameters and updater states.
 */
public final class DataParallelReference {

    private DataParallelReference() {
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
                ComputationGraph worker = net.clone();
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

    /** @return {@code max |a - b|} */
    public static double maxAbsDiff(INDArray a, INDArray b) {
        return Transforms.abs(a.sub(b)).maxNumber().doubleValue();
    }
}
