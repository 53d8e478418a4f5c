package org.repopt.gr;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.linalg.schedule.MapSchedule;
import org.nd4j.linalg.schedule.ScheduleType;

import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * {@link TorchSgd} and {@link TorchAdam} against a plain double loop of PyTorch's update rules, under a learning rate
 * that changes every step (where DL4J's own Nesterovs and Adam differ from PyTorch).
 */
class TorchUpdatersTest {

    private static final int N = 7;
    private static final int STEPS = 6;
    private static final ISchedule LR = new MapSchedule(ScheduleType.ITERATION,
            Map.of(0, 0.1, 1, 0.05, 2, 0.2, 3, 0.01, 4, 0.07, 5, 0.3));

    private static double[][] gradients() {
        Random r = new Random(3);
        double[][] g = new double[STEPS][N];
        for (double[] step : g) {
            for (int i = 0; i < N; i++) {
                step[i] = r.nextGaussian();
            }
        }
        return g;
    }

    /** Runs the updater and returns the parameters after every step (p -= update, DL4J's step function). */
    private static double[][] run(GradientUpdater<?> u, double[][] grads) {
        double[] p = new double[N];
        double[][] out = new double[STEPS][];
        for (int t = 0; t < STEPS; t++) {
            INDArray g = Nd4j.create(grads[t].clone(), new long[]{N}, DataType.DOUBLE);
            u.applyUpdater(g, t, 0);
            for (int i = 0; i < N; i++) {
                p[i] -= g.getDouble(i);
            }
            out[t] = p.clone();
        }
        return out;
    }

    @ParameterizedTest(name = "TorchSgd momentum {0}, nesterov {1}")
    @CsvSource({"0.9, true", "0.9, false", "0.0, false"})
    void sgdIsPyTorchsSgdUnderASchedule(double momentum, boolean nesterov) {
        double[][] grads = gradients();
        TorchSgd config = new TorchSgd(LR, momentum, nesterov);
        INDArray state = Nd4j.create(DataType.DOUBLE, 1, Math.max(1, config.stateSize(N)));
        double[][] actual = run(config.instantiate(config.stateSize(N) == 0 ? null : state, true), grads);
        double[] p = new double[N];
        double[] buf = new double[N];
        for (int t = 0; t < STEPS; t++) {
            for (int i = 0; i < N; i++) {
                double d = grads[t][i];
                if (momentum != 0) {
                    buf[i] = t == 0 ? d : momentum * buf[i] + d;
                    d = nesterov ? d + momentum * buf[i] : buf[i];
                }
                p[i] -= LR.valueAt(t, 0) * d;
            }
            assertArrayEquals(p, actual[t], 1e-14, "step " + t);
        }
    }

    @ParameterizedTest(name = "TorchAdam betas {0}, {1}")
    @CsvSource({"0.9, 0.999", "0.5, 0.9"})
    void adamIsPyTorchsAdamUnderASchedule(double b1, double b2) {
        double eps = 1e-8;
        double[][] grads = gradients();
        TorchAdam config = new TorchAdam(LR, b1, b2, eps);
        double[][] actual = run(config.instantiate(Nd4j.create(DataType.DOUBLE, 1, config.stateSize(N)), true), grads);
        double[] p = new double[N];
        double[] m = new double[N];
        double[] v = new double[N];
        for (int t = 0; t < STEPS; t++) {
            for (int i = 0; i < N; i++) {
                double g = grads[t][i];
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                double step = LR.valueAt(t, 0) / (1 - Math.pow(b1, t + 1));
                p[i] -= step * m[i] / (Math.sqrt(v[i]) / Math.sqrt(1 - Math.pow(b2, t + 1)) + eps);
            }
            assertArrayEquals(p, actual[t], 1e-12, "step " + t);
        }
    }
}
