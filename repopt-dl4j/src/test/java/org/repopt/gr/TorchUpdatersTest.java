package org.repopt.gr;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.linalg.schedule.MapSchedule;
import org.nd4j.linalg.schedule.ScheduleType;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    /**
     * On the CPU backend TorchSgd's step is one Java pass; it gives the two ND4J passes' numbers, on views inside larger
     * buffers, short and long (chunked, several threads): bit for bit without Nesterov; with it within the roundings of
     * the products {@code m*v} and {@code (m+1)*v'} (ND4J's AVX2 build fuses those multiply-adds; the Java pass rounds
     * each product, as the plain x86-64 build does).
     */
    @ParameterizedTest(name = "{0} nesterov {1} length {2}")
    @CsvSource({"FLOAT, true, 7", "FLOAT, false, 7", "DOUBLE, true, 7", "DOUBLE, false, 7",
            "FLOAT, true, 300001", "FLOAT, false, 300001", "DOUBLE, true, 300001", "DOUBLE, false, 20000"})
    void theHostPassIsTheNd4jStep(DataType type, boolean nesterov, int length) {
        Assumptions.assumeTrue(HostMemory.AVAILABLE, "not the CPU backend");
        double u = type == DataType.DOUBLE ? Math.ulp(1.0) / 2 : Math.ulp(1.0f) / 2;
        double m = 0.9;
        INDArray grads = Nd4j.rand(type, 1, 5 + length).subi(0.5);
        INDArray state = Nd4j.rand(type, 1, 9 + length).subi(0.5);
        INDArray hostGrads = grads.dup();
        INDArray hostState = state.dup();
        for (double lr : new double[]{0.1, 0.037}) {
            double[] v = state.data().asDouble();
            INDArray g = hostGrads.get(NDArrayIndex.point(0), NDArrayIndex.interval(5, 5 + length));
            INDArray vh = hostState.get(NDArrayIndex.point(0), NDArrayIndex.interval(9, 9 + length));
            assertTrue(TorchSgd.HostStep.applies(g, vh));
            TorchSgd.HostStep.run(g, vh, m, nesterov, lr);
            TorchSgd.applyWithNd4j(grads.get(NDArrayIndex.point(0), NDArrayIndex.interval(5, 5 + length)),
                    state.get(NDArrayIndex.point(0), NDArrayIndex.interval(9, 9 + length)), m, nesterov, lr);
            double[] velocity = state.data().asDouble();
            double[] hostVelocity = hostState.data().asDouble();
            for (int j = 9; j < velocity.length; j++) {
                double bound = nesterov ? 2 * u * (m * Math.abs(v[j]) + Math.abs(velocity[j])) : 0.0;
                assertTrue(Math.abs(velocity[j] - hostVelocity[j]) <= bound, "velocity " + j + ", lr " + lr + ": "
                        + hostVelocity[j] + " vs ND4J's " + velocity[j] + ", bound " + bound);
            }
            double[] expected = grads.data().asDouble();
            double[] actual = hostGrads.data().asDouble();
            for (int j = 0; j < expected.length; j++) {
                double bound = !nesterov || j < 5 ? 0.0
                        : 8 * u * lr * (m * Math.abs(v[j + 4]) + (1 + m) * Math.abs(velocity[j + 4]));
                assertTrue(Math.abs(expected[j] - actual[j]) <= bound, "update " + j + ", lr " + lr + ": " + actual[j]
                        + " vs ND4J's " + expected[j] + ", bound " + bound);
            }
            // the next step starts from the same numbers on both paths
            hostGrads.assign(grads);
            hostState.assign(state);
        }
    }

    @Test
    void updatersAreValuesWithTheirSettingsInTheirText() {
        TorchSgd sgd = new TorchSgd(0.1, 0.9, true);
        assertEquals(sgd, sgd.clone());
        assertNotSame(sgd, sgd.clone());
        assertEquals(sgd.hashCode(), new TorchSgd(0.1, 0.9, true).hashCode());
        assertNotEquals(sgd, new TorchSgd(0.1, 0.9, false));
        assertNotEquals(sgd, new TorchSgd(0.1, 0.8, true));
        assertNotEquals(sgd, new TorchSgd(0.2, 0.9, true));
        assertNotEquals(sgd, new TorchSgd(LR, 0.9, true));
        assertEquals(new TorchSgd(LR, 0.9, true), new TorchSgd(LR, 0.9, true).clone());
        assertEquals("TorchSgd{lr=0.1, momentum=0.9, nesterov=true}", sgd.toString());

        TorchAdam adam = new TorchAdam(0.01, 0.9, 0.999, 1e-8);
        assertEquals(adam, adam.clone());
        assertEquals(adam.hashCode(), new TorchAdam(0.01, 0.9, 0.999, 1e-8).hashCode());
        assertNotEquals(adam, new TorchAdam(0.01, 0.8, 0.999, 1e-8));
        assertNotEquals(adam, new TorchAdam(0.01, 0.9, 0.99, 1e-8));
        assertNotEquals(adam, new TorchAdam(0.01, 0.9, 0.999, 1e-7));
        assertNotEquals(adam, new TorchAdam(0.02, 0.9, 0.999, 1e-8));
        assertEquals("TorchAdam{lr=0.01, beta1=0.9, beta2=0.999, epsilon=1.0E-8}", adam.toString());
        assertNotEquals(sgd, (Object) new TorchAdam(0.1, 0.9, 0.999, 1e-8));
    }

    @Test
    void anUpdaterFromAStateMapWorksOnThatState() {
        TorchSgd sgd = new TorchSgd(0.5, 0.9, false);
        Map<String, INDArray> velocity = new HashMap<>(Map.of("velocity", Nd4j.valueArrayOf(new long[]{3}, 7.0)));
        GradientUpdater<?> u = sgd.instantiate(velocity, true);
        assertSame(sgd, u.getConfig());
        assertSame(velocity.get("velocity"), u.getState().get("velocity"));
        assertEquals(0.0, velocity.get("velocity").sumNumber().doubleValue(), "initialized");

        TorchAdam adam = new TorchAdam(0.5, 0.9, 0.999, 1e-8);
        Map<String, INDArray> moments = new HashMap<>(Map.of("M", Nd4j.ones(3), "V", Nd4j.ones(3)));
        GradientUpdater<?> a = adam.instantiate(moments, false);
        assertSame(adam, a.getConfig());
        assertEquals(moments, a.getState());
        assertEquals(3.0, moments.get("M").sumNumber().doubleValue(), "kept");
    }
}
