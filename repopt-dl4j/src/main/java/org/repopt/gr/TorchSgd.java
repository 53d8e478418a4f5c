package org.repopt.gr;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.ScalarMultiplication;
import org.nd4j.linalg.api.ops.impl.updaters.NesterovsUpdater;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * SGD with (Nesterov) momentum exactly as PyTorch's {@code torch.optim.SGD} with dampening 0, the optimizer of
 * the paper's reference code:
 * <pre>{@code
 * buf = momentum * buf + d          (buf starts at 0, so the first step gives buf = d; stored as -buf)
 * d   = nesterov ? d + momentum * buf : buf
 * p   = p - lr * d
 * }</pre>
 * where {@code d} already holds the Grad Mult and the L2 term. DL4J's {@code Nesterovs} folds the learning rate
 * into its velocity; the two agree at a constant learning rate but not under a schedule, which is why the
 * training recipe (cosine decay) uses this updater.
 */
public final class TorchSgd extends TorchUpdater {

    private static final long serialVersionUID = 1L;

    /** The paper's momentum (docs/METHOD.md#training-recipe). */
    public static final double DEFAULT_MOMENTUM = 0.9;

    @JsonProperty("momentum")
    private final double momentum;
    @JsonProperty("nesterov")
    private final boolean nesterov;

    /**
     * @param learningRate the constant learning rate (ignored while a schedule is set)
     * @param momentum     momentum in {@code [0, 1)}
     * @param nesterov     Nesterov momentum (needs {@code momentum > 0})
     */
    public TorchSgd(double learningRate, double momentum, boolean nesterov) {
        this(learningRate, null, momentum, nesterov);
    }

    /**
     * @param schedule the learning rate per iteration or epoch
     * @param momentum momentum in {@code [0, 1)}
     * @param nesterov Nesterov momentum (needs {@code momentum > 0})
     */
    public TorchSgd(ISchedule schedule, double momentum, boolean nesterov) {
        this(Objects.requireNonNull(schedule, "schedule").valueAt(0, 0), schedule, momentum, nesterov);
    }

    @JsonCreator
    private TorchSgd(@JsonProperty("learningRate") double learningRate,
                     @JsonProperty("learningRateSchedule") ISchedule learningRateSchedule,
                     @JsonProperty("momentum") double momentum,
                     @JsonProperty("nesterov") boolean nesterov) {
        super(learningRate, learningRateSchedule);
        Hyperparameters.momentum(momentum);
        if (nesterov && momentum == 0) {
            throw new IllegalArgumentException("Nesterov momentum needs momentum > 0");
        }
        this.momentum = momentum;
        this.nesterov = nesterov;
    }

    /** @return the momentum */
    public double momentum() {
        return momentum;
    }

    /** @return whether Nesterov momentum is used */
    public boolean nesterov() {
        return nesterov;
    }

    @Override
    public long stateSize(long numParams) {
        return momentum == 0 ? 0 : numParams;
    }

    @Override
    public GradientUpdater instantiate(INDArray viewArray, boolean initializeViewArray) {
        Updater u = new Updater(this);
        if (momentum != 0) {
            u.setStateViewArray(viewArray, viewArray.shape(), 'c', initializeViewArray);
        }
        return u;
    }

    @Override
    public TorchSgd clone() {
        return new TorchSgd(fixedLearningRate(), clonedSchedule(), momentum, nesterov);
    }

    @Override
    Map<String, Object> settings() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("momentum", momentum);
        s.put("nesterov", nesterov);
        return s;
    }

    @Override
    GradientUpdater<TorchSgd> newUpdater() {
        return new Updater(this);
    }

    /**
     * The running state: one velocity per parameter, kept in DL4J's sign convention at unit learning rate,
     * {@code v = -buf}, so that the step is DL4J's Nesterov kernel at learning rate 1 (it computes
     * {@code v' = m*v - d} and returns {@code m*v - (1+m)*v' = d + m*buf'}, PyTorch's Nesterov direction) followed by
     * the scaling by the current learning rate.
     *
     * <p>On ND4J's CPU backend both run as one Java pass over the gradient and the velocity ({@link HostMemory}): the
     * same operations in the data type, one read and one write of each array, where the ND4J kernel and the scaling
     * pass touch the gradient twice (on 50 M float values: 38 ms, against 49-55 ms for ND4J's Nesterov kernel alone, in
     * a one-off microbenchmark). The numbers are the ND4J passes' bit for bit without Nesterov and within the
     * roundings of two products with it: ND4J's AVX2 build fuses its multiply-adds, the Java pass rounds each product
     * as the plain x86-64 build does ({@code TorchUpdatersTest#theHostPassIsTheNd4jStep}). Over a kernel whose hook
     * left its Grad Mult to this step ({@link GradMultHook#sgdInTorchSgdStep}) the same pass computes {@code d} first,
     * row by row. Elsewhere (CUDA, or arrays that are not contiguous) the ND4J passes run, after any handed-over Grad
     * Mult.
     */
    private static final class Updater extends TorchUpdater.State<TorchSgd> {
        private static final String VELOCITY = "velocity";
        private INDArray velocity;

        Updater(TorchSgd config) {
            super(config);
        }

        @Override
        public void setState(Map<String, INDArray> stateMap, boolean initialize) {
            if (config.momentum == 0) {
                if (!stateMap.isEmpty()) {
                    throw new IllegalStateException("TorchSgd without momentum has no state, got " + stateMap.keySet());
                }
                return;
            }
            if (stateMap.size() != 1 || !stateMap.containsKey(VELOCITY)) {
                throw new IllegalStateException("TorchSgd state must hold only [" + VELOCITY + "], got "
                        + stateMap.keySet());
            }
            velocity = stateMap.get(VELOCITY);
            if (initialize) {
                velocity.assign(0);
            }
        }

        @Override
        public Map<String, INDArray> getState() {
            return velocity == null ? Collections.emptyMap() : Collections.singletonMap(VELOCITY, velocity);
        }

        @Override
        public void setStateViewArray(INDArray viewArray, long[] gradientShape, char gradientOrder,
                                      boolean initialize) {
            if (initialize) {
                viewArray.assign(0);
            }
            velocity = Shape.newShapeNoCopy(viewArray, gradientShape, gradientOrder == 'f');
            if (velocity == null) {
                throw new IllegalStateException("Could not reshape the TorchSgd state view to the gradient's shape");
            }
        }

        @Override
        public void applyUpdater(INDArray gradient, int iteration, int epoch) {
            double lr = config.getLearningRate(iteration, epoch);
            if (config.momentum != 0 && velocity == null) {
                throw new IllegalStateException("TorchSgd has not been given its state view");
            }
            // the Grad Mults that hooks of this block left to this step (GradMultHook.sgdInTorchSgdStep): inside the
            // host pass, else each on its own first
            if (config.momentum != 0 && HostStep.applies(gradient, velocity)) {
                HostStep.run(gradient, velocity, config.momentum, config.nesterov, lr, DeferredGradMults.take());
                return;
            }
            DeferredGradMults.runAll();
            if (config.momentum == 0) {
                gradient.muli(lr);
                return;
            }
            applyWithNd4j(gradient, velocity, config.momentum, config.nesterov, lr);
        }
    }

    /** The step as ND4J ops: the definition the host pass reproduces, and the path for CUDA. */
    static void applyWithNd4j(INDArray gradient, INDArray velocity, double momentum, boolean nesterov, double lr) {
        INDArray g = gradient.reshape(velocity.shape());
        if (nesterov) {
            // v' = m*v - d; g = m*v - (1+m)*v' = d + m*buf'
            Nd4j.exec(new NesterovsUpdater(g, velocity, 1.0, momentum));
            g.muli(lr);
        } else {
            velocity.muli(momentum).subi(g);                 // v' = m*v - d = -buf'
            Nd4j.exec(new ScalarMultiplication(velocity, null, g, -lr));   // g = lr * buf'
        }
    }

    /**
     * The step as one Java pass over host memory, chunk by chunk: each chunk of the gradient and the velocity is read
     * once and written once. The arithmetic is ND4J's, in the data type, each product rounded: its Nesterov kernel
     * ({@code p = m*v; v' = p - 1*d; g = p - (m+1)*v'}, momentum and learning rate as the data type holds them), then
     * {@code g * lr}; without Nesterov {@code v' = m*v - d; g = v' * (-lr)}. ({@code Math.fma} would match ND4J's AVX2
     * build exactly but is emulated, thousands of times slower, on CPUs without FMA, where the plain build runs.)
     */
    static final class HostStep {
        /** Values per chunk: two chunks (gradient, velocity) stay in a core's L1/L2 cache. */
        private static final int CHUNK = 1 << 13;

        private HostStep() {
        }

        /** @return whether the pass can run: both arrays in host memory, contiguous, same type, length and order */
        static boolean applies(INDArray gradient, INDArray velocity) {
            return HostMemory.addressable(gradient) && HostMemory.addressable(velocity)
                    && gradient.dataType() == velocity.dataType() && gradient.length() == velocity.length()
                    && (gradient.ordering() == velocity.ordering() || gradient.isVector() && velocity.isVector()
                    || gradient.length() == 1);
        }

        static void run(INDArray gradient, INDArray velocity, double momentum, boolean nesterov, double lr) {
            run(gradient, velocity, momentum, nesterov, lr, Collections.emptyList());
        }

        /**
         * The step, with the Grad Mult of each kernel in {@code deferred} computed inside it: over a kernel's rows,
         * {@code d = G * M (+ l2 * W)} then the step on {@code d}, row by row ({@link GradMultHook.Rows#run}); the
         * rest of the gradient chunk by chunk.
         *
         * @param deferred kernels whose gradients lie inside {@code gradient} (the hooks of this updater's block)
         * @throws IllegalStateException where a kernel's gradient does not lie inside {@code gradient}, apart from the
         *     others
         */
        static void run(INDArray gradient, INDArray velocity, double momentum, boolean nesterov, double lr,
                        List<GradMultHook.Rows> deferred) {
            long length = gradient.length();
            int g0 = (int) gradient.offset();
            int v0 = (int) velocity.offset();
            List<GradMultHook.Rows> kernels = deferred;
            if (kernels.size() > 1) {
                kernels = new ArrayList<>(deferred);
                kernels.sort(Comparator.comparingLong(k -> k.gradient.offset()));
            }
            long done = 0;
            for (GradMultHook.Rows k : kernels) {
                long start = k.gradient.offset() - g0;
                if (k.gradient.data().address() != gradient.data().address() || start < done
                        || start + k.gradient.length() > length || k.gradient.dataType() != gradient.dataType()) {
                    throw new IllegalStateException("block " + k.block() + ": the Grad Mult its hook left to "
                            + "TorchSgd's step is for a gradient that does not lie inside this step's ("
                            + k.gradient.length() + " values at " + start + " of " + length + ", or overlapping "
                            + "another kernel's)");
                }
                steps(gradient, velocity, g0 + done, v0 + done, start - done, momentum, nesterov, lr);
                k.run(velocity, v0 + start, momentum, nesterov, lr);
                done = start + k.gradient.length();
            }
            steps(gradient, velocity, g0 + done, v0 + done, length - done, momentum, nesterov, lr);
            HostMemory.keepAlive(gradient, velocity);
        }

        /** The step over {@code length} values: gradient from buffer index {@code g}, velocity from {@code v}. */
        private static void steps(INDArray gradient, INDArray velocity, long g, long v, long length, double momentum,
                                  boolean nesterov, double lr) {
            if (length == 0) {
                return;
            }
            int chunks = (int) ((length + CHUNK - 1) / CHUNK);
            int g0 = (int) g;
            int v0 = (int) v;
            if (gradient.dataType() == DataType.FLOAT) {
                FloatBuffer gb = HostMemory.floats(gradient);
                FloatBuffer vb = HostMemory.floats(velocity);
                float m = (float) momentum;
                float rate = (float) (nesterov ? lr : -lr);
                HostMemory.forEach(chunks, length, c -> {
                    int from = c * CHUNK;
                    int n = (int) Math.min(CHUNK, length - from);
                    float[] x = HostMemory.floatScratch(0, n);
                    float[] y = HostMemory.floatScratch(1, n);
                    HostMemory.read(gb, g0 + from, x, n);
                    HostMemory.read(vb, v0 + from, y, n);
                    step(x, y, n, m, nesterov, rate);
                    HostMemory.write(gb, g0 + from, x, n);
                    HostMemory.write(vb, v0 + from, y, n);
                });
            } else {
                DoubleBuffer gb = HostMemory.doubles(gradient);
                DoubleBuffer vb = HostMemory.doubles(velocity);
                double rate = nesterov ? lr : -lr;
                HostMemory.forEach(chunks, length, c -> {
                    int from = c * CHUNK;
                    int n = (int) Math.min(CHUNK, length - from);
                    double[] x = HostMemory.doubleScratch(0, n);
                    double[] y = HostMemory.doubleScratch(1, n);
                    HostMemory.read(gb, g0 + from, x, n);
                    HostMemory.read(vb, v0 + from, y, n);
                    step(x, y, n, momentum, nesterov, rate);
                    HostMemory.write(gb, g0 + from, x, n);
                    HostMemory.write(vb, v0 + from, y, n);
                });
            }
        }

        /** {@code d} in, update out; {@code v} in and out; {@code rate} is {@code lr} (Nesterov) or {@code -lr}. */
        static void step(float[] d, float[] v, int n, float m, boolean nesterov, float rate) {
            float m1 = m + 1f;
            if (nesterov) {
                for (int j = 0; j < n; j++) {
                    float p = m * v[j];
                    float next = p - d[j];
                    v[j] = next;
                    d[j] = (p - m1 * next) * rate;
                }
            } else {
                for (int j = 0; j < n; j++) {
                    float next = m * v[j] - d[j];
                    v[j] = next;
                    d[j] = next * rate;
                }
            }
        }

        static void step(double[] d, double[] v, int n, double m, boolean nesterov, double rate) {
            double m1 = m + 1.0;
            if (nesterov) {
                for (int j = 0; j < n; j++) {
                    double p = m * v[j];
                    double next = p - d[j];
                    v[j] = next;
                    d[j] = (p - m1 * next) * rate;
                }
            } else {
                for (int j = 0; j < n; j++) {
                    double next = m * v[j] - d[j];
                    v[j] = next;
                    d[j] = next * rate;
                }
            }
        }
    }
}
