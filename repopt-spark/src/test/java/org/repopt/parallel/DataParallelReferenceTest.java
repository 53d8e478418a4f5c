package org.repopt.parallel;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.repopt.parallel.DataParallelReference.assertMatches;
import static org.repopt.parallel.DataParallelReference.maxAbsDiff;

/** The reference itself: with one worker it is plain SGD in one process, learning-rate schedule included. */
class DataParallelReferenceTest {

    @Test
    void oneWorkerIsOneProcess() {
        List<DataSet> batches = TinyRepOptVgg.batches(3, 8, 7);
        ComputationGraph start = TinyRepOptVgg.withGradMult();
        ComputationGraph local = DataParallelReference.copy(start);
        for (DataSet b : batches) {
            local.fit(b);
        }
        assertEquals(3, local.getIterationCount());
        assertMatches(local, DataParallelReference.trained(start, batches, 1, 1));
        assertMatches(local, DataParallelReference.trained(start, batches, 1, 2));
    }

    @Test
    void aCopyKeepsTheIterationCountThatCloneDrops() {
        ComputationGraph net = TinyRepOptVgg.withGradMult();
        net.fit(TinyRepOptVgg.batches(1, 8, 8).get(0));
        assertEquals(0, net.clone().getIterationCount(), "DL4J M2.1's clone; if this fails, clone was fixed");
        assertEquals(1, DataParallelReference.copy(net).getIterationCount());
        assertTrue(maxAbsDiff(net.params(), DataParallelReference.copy(net).params()) == 0);
    }
}
