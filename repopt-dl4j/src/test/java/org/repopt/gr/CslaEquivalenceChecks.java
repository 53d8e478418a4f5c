package org.repopt.gr;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.repopt.check.EquivalenceCheck;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The three checks of a CSLA equivalence inside DL4J, for any family: the network trained with the RepOptimizer
 * follows its CSLA twin trained with plain SGD for {@value #STEPS} steps in double precision; leaving out either the
 * Rule of Initialization or the Grad Mult breaks it. A family supplies the side-by-side training.
 */
abstract class CslaEquivalenceChecks {

    static final double LR = 0.05;
    static final double MOMENTUM = 0.9;
    static final double WD = 1e-3;
    static final int STEPS = 20;

    /**
     * Trains the CSLA network and the RepOptimizer's network side by side for {@value #STEPS} steps.
     *
     * @param reinit   whether the RepOptimizer's network starts at the CSLA network's equivalent kernels (else at its
     *                 raw kernels)
     * @param gradMult whether the RepOptimizer multiplies the gradients (else the same recipe without Grad Mult)
     * @return the largest {@link #relativeGap} of any compared parameter after any step
     */
    abstract double maxRelativeGap(boolean reinit, boolean gradMult);

    /** @return {@code max |expected - actual| / max(1, max |expected|)} */
    static double relativeGap(INDArray expected, INDArray actual) {
        return EquivalenceCheck.relativeGap(expected, actual);
    }

    @Test
    void repOptimizerFollowsTheCslaModel() {
        double gap = maxRelativeGap(true, true);
        assertTrue(gap <= 1e-9, "max relative gap over " + STEPS + " steps: " + gap);
    }

    @Test
    void withoutReinitializationTheTrajectoriesDiffer() {
        double gap = maxRelativeGap(false, true);
        assertTrue(gap > 1e-2, "expected a large gap without the Rule of Initialization, got " + gap);
    }

    @Test
    void withoutGradMultTheTrajectoriesDiffer() {
        double gap = maxRelativeGap(true, false);
        assertTrue(gap > 1e-3, "expected a large gap without the Grad Mult, got " + gap);
    }
}
