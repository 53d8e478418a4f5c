package org.repopt.gr;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Adam with PyTorch's placement of epsilon, the inner step of the AdamW-form RepOptimizer:
 * <pre>{@code
 * m = b1*m + (1-b1)*g;   v = b2*v + (1-b2)*g^2;   t = iteration + 1
 * update = lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
 * }</pre>
 * DL4J's {@code Adam} divides by {@code sqrt(v) + eps} instead. The two coincide when DL4J's epsilon is
 * {@code eps * sqrt(1-b2^t)}, so this updater runs DL4J's native Adam kernel with that epsilon at every step.
 * Decoupled weight decay and the Grad Mult on the update are not part of the updater: {@link RepOptimizer}
 * attaches them to each parameter as {@code POST_UPDATER} steps.
 */
public final class TorchAdam extends TorchUpdater {

    private static final long serialVersionUID = 1L;

    /** PyTorch's defaults. */
    public static final double DEFAULT_BETA1 = 0.9;
    /** PyTorch's defaults. */
    public static final double DEFAULT_BETA2 = 0.999;
    /** PyTorch's defaults. */
    public static final double DEFAULT_EPSILON = 1e-8;

    @JsonProperty("beta1")
    private final double beta1;
    @JsonProperty("beta2")
    private final double beta2;
    @JsonProperty("epsilon")
    private final double epsilon;

    /**
     * @param learningRate constant learning rate (ignored while a schedule is set)
     * @param beta1        first-moment decay in {@code [0, 1)}
     * @param beta2        second-moment decay in {@code [0, 1)}
     * @param epsilon      PyTorch-style epsilon, {@code > 0}
     */
    public TorchAdam(double learningRate, double beta1, double beta2, double epsilon) {
        this(learningRate, null, beta1, beta2, epsilon);
    }

    /**
     * @param schedule learning rate per iteration or epoch
     * @param beta1    first-moment decay in {@code [0, 1)}
     * @param beta2    second-moment decay in {@code [0, 1)}
     * @param epsilon  PyTorch-style epsilon, {@code > 0}
     */
    public TorchAdam(ISchedule schedule, double beta1, double beta2, double epsilon) {
        this(Objects.requireNonNull(schedule, "schedule").valueAt(0, 0), schedule, beta1, beta2, epsilon);
    }

    @JsonCreator
    private TorchAdam(@JsonProperty("learningRate") double learningRate,
                      @JsonProperty("learningRateSchedule") ISchedule learningRateSchedule,
                      @JsonProperty("beta1") double beta1,
                      @JsonProperty("beta2") double beta2,
                      @JsonProperty("epsilon") double epsilon) {
        super(learningRate, learningRateSchedule);
        Hyperparameters.betas(beta1, beta2);
        Hyperparameters.epsilon(epsilon);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
    }

    @Override
    public long stateSize(long numParams) {
        return 2 * numParams;
    }

    @Override
    public GradientUpdater instantiate(INDArray viewArray, boolean initializeViewArray) {
        Updater u = new Updater(this);
        u.setStateViewArray(viewArray, new long[]{viewArray.length() / 2}, 'c', initializeViewArray);
        return u;
    }

    @Override
    public TorchAdam clone() {
        return new TorchAdam(fixedLearningRate(), clonedSchedule(), beta1, beta2, epsilon);
    }

    @Override
    Map<String, Object> settings() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("beta1", beta1);
        s.put("beta2", beta2);
        s.put("epsilon", epsilon);
        return s;
    }

    @Override
    GradientUpdater<TorchAdam> newUpdater() {
        return new Updater(this);
    }

    /** The running state: first and second moments. */
    private static final class Updater extends TorchUpdater.State<TorchAdam> {
        private static final String M = "M";
        private static final String V = "V";
        private INDArray m;
        private INDArray v;

        Updater(TorchAdam config) {
            super(config);
        }

        @Override
        public void setState(Map<String, INDArray> stateMap, boolean initialize) {
            if (stateMap.size() != 2 || !stateMap.containsKey(M) || !stateMap.containsKey(V)) {
                throw new IllegalStateException("TorchAdam state must hold [" + M + ", " + V + "], got "
                        + stateMap.keySet());
            }
            m = stateMap.get(M);
            v = stateMap.get(V);
            if (initialize) {
                m.assign(0);
                v.assign(0);
            }
        }

        @Override
        public Map<String, INDArray> getState() {
            Map<String, INDArray> state = new HashMap<>();
            state.put(M, m);
            state.put(V, v);
            return state;
        }

        @Override
        public void setStateViewArray(INDArray viewArray, long[] gradientShape, char gradientOrder,
                                      boolean initialize) {
            if (initialize) {
                viewArray.assign(0);
            }
            INDArray flat = viewArray.reshape(viewArray.length());
            long half = flat.length() / 2;
            m = Shape.newShapeNoCopy(flat.get(NDArrayIndex.interval(0, half)), gradientShape, gradientOrder == 'f');
            v = Shape.newShapeNoCopy(flat.get(NDArrayIndex.interval(half, 2 * half)), gradientShape,
                    gradientOrder == 'f');
            if (m == null || v == null) {
                throw new IllegalStateException("Could not reshape the TorchAdam state views to the gradient's shape");
            }
        }

        @Override
        public void applyUpdater(INDArray gradient, int iteration, int epoch) {
            if (m == null) {
                throw new IllegalStateException("TorchAdam has not been given its state view");
            }
            DeferredGradMults.runAll();   // a hook that left its pass to TorchSgd's step: before Adam, DL4J's order
            int t = iteration + 1;
            double dl4jEpsilon = config.epsilon * Math.sqrt(1 - Math.pow(config.beta2, t));
            Nd4j.exec(new org.nd4j.linalg.api.ops.impl.updaters.AdamUpdater(gradient.reshape(v.shape()), v, m,
                    config.getLearningRate(iteration, epoch), config.beta1, config.beta2, dl4jEpsilon, iteration));
        }
    }
}
