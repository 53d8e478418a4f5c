package org.repopt.parallel;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.repopt.parallel.DataParallelReference.assertMatches;

/**
 * ParallelWrapper on one machine computes data-parallel SGD exactly: a small RepOpt-VGG in double precision after
 * three steps equals the single-process average of the workers' steps, parameters and updater state, to 1e-10, for
 * averaging every step and every second step (with a short last round), and with uneven last slices.
 */
class ParallelWrapperFitterTest {

    private static List<Long> fit(ComputationGraph net, List<DataSet> batches, int workers, int k) {
        List<Long> examples = new ArrayList<>();
        new ParallelWrapperFitter(new DataParallelism(workers, k)).fit(net, batches.iterator(), (loss, n) -> {
            assertTrue(Double.isFinite(loss));
            examples.add(n);
        });
        return examples;
    }

    @Test
    void everyStepIsTheAverageOfTheWorkersSteps() {
        for (int repeat = 0; repeat < 3; repeat++) {
            List<DataSet> batches = TinyRepOptVgg.batches(3, 8, repeat);
            ComputationGraph start = TinyRepOptVgg.withGradMult();
            ComputationGraph reference = DataParallelReference.trained(start, batches, 2, 1);
            ComputationGraph net = DataParallelReference.copy(start);
            assertEquals(List.of(8L, 8L, 8L), fit(net, batches, 2, 1));
            assertEquals(3, net.getIterationCount());
            assertMatches(reference, net);
        }
    }

    @Test
    void averagingEveryTwoStepsAveragesTheShortLastRoundToo() {
        List<DataSet> batches = TinyRepOptVgg.batches(3, 8, 4);
        ComputationGraph start = TinyRepOptVgg.withGradMult();
        ComputationGraph reference = DataParallelReference.trained(start, batches, 2, 2);
        ComputationGraph net = DataParallelReference.copy(start);
        fit(net, batches, 2, 2);
        assertMatches(reference, net);
    }

    @Test
    void aSmallerLastBatchGivesSlicesThatDifferByOneExample() {
        List<DataSet> batches = new ArrayList<>(TinyRepOptVgg.batches(2, 9, 5));
        batches.add(TinyRepOptVgg.batches(1, 7, 6).get(0));
        ComputationGraph start = TinyRepOptVgg.withGradMult();
        ComputationGraph reference = DataParallelReference.trained(start, batches, 3, 1);
        ComputationGraph net = DataParallelReference.copy(start);
        assertEquals(List.of(9L, 9L, 7L), fit(net, batches, 3, 1));
        assertMatches(reference, net);
    }

    @Test
    void refusesNonsense() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new DataParallelism(0, 1)).getMessage()
                .contains("workers: expected 1 or more, got 0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new DataParallelism(2, 0)).getMessage()
                .contains("averaging frequency: expected 1 or more, got 0"));
    }
}
