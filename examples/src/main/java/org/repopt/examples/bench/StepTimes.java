package org.repopt.examples.bench;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.DataSet;

import java.util.ArrayList;
import java.util.List;

/**
 * Single training steps of two networks timed alternately, {@code A B B A A B ...}: the measure of what one family
 * costs more than another when the difference is a few percent. Repetitions of tens of steps per family, as the
 * images/s figures use, carry the shared VM's speed changes from one repetition to the next (on the 2-core development
 * machine the ratio of two adjacent repetitions of the same network varies by 10-30 %); one step apart, both networks
 * meet nearly the same machine, each follows itself and the other equally often, and the median step ignores the
 * steps that a descheduling or a garbage collection lengthened.
 *
 * @param a the milliseconds of {@code a}'s steps, in the order taken
 * @param b the milliseconds of {@code b}'s steps, in the order taken
 */
public record StepTimes(Benchmark.Figure a, Benchmark.Figure b) {

    /** How the figures were taken, for the JSON. */
    static final String METHOD = "single fit() steps of repopt and nesterovs on the same batch, timed with "
            + "System.nanoTime, alternating repopt, nesterovs, nesterovs, repopt, ...; medians over all steps";

    /**
     * @param a     a network, warmed up
     * @param b     another network, warmed up, training on the same batch
     * @param batch the batch both train on
     * @param pairs how many steps of each
     * @return the steps' times
     */
    static StepTimes alternate(ComputationGraph a, ComputationGraph b, DataSet batch, int pairs) {
        List<Double> ta = new ArrayList<>(pairs);
        List<Double> tb = new ArrayList<>(pairs);
        for (int i = 0; i < pairs; i++) {
            boolean aFirst = i % 2 == 0;
            for (int k = 0; k < 2; k++) {
                boolean isA = (k == 0) == aFirst;
                long t0 = System.nanoTime();
                (isA ? a : b).fit(batch);
                (isA ? ta : tb).add((System.nanoTime() - t0) / 1e6);
            }
        }
        return new StepTimes(Benchmark.Figure.of(ta), Benchmark.Figure.of(tb));
    }

    /** @return {@code a}'s speed relative to {@code b}'s: {@code b}'s median step time over {@code a}'s */
    double aOverB() {
        return b.median() / a.median();
    }
}
