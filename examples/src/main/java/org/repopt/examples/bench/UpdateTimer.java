package org.repopt.examples.bench;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.optimize.api.BaseTrainingListener;

/**
 * Times the update part of each training step: from DL4J's {@code onGradientCalculation} (backprop done) to
 * {@code iterationDone} (regularizations, Grad Mult, updater and the parameter step done). That part is where the
 * RepOptimizer differs from plain SGD, and it is timed in the same run as images/s, so the Grad Mult's cost shows
 * apart from the forward and backward passes, whose noise on a shared VM is larger than that cost.
 */
final class UpdateTimer extends BaseTrainingListener {

    private long started;
    private long total;
    private int steps;

    @Override
    public void onGradientCalculation(Model model) {
        started = System.nanoTime();
    }

    @Override
    public void iterationDone(Model model, int iteration, int epoch) {
        if (started != 0) {
            total += System.nanoTime() - started;
            steps++;
            started = 0;
        }
    }

    /** @return the mean update time per step since the last call, in ms (NaN without a step), and starts over */
    double takeMillisPerStep() {
        double ms = steps == 0 ? Double.NaN : total / 1e6 / steps;
        total = 0;
        steps = 0;
        return ms;
    }
}
