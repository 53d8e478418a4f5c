package org.repopt.gr;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.ScalarMultiplication;
import org.nd4j.linalg.api.ops.impl.updaters.NesterovsUpdater;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Collections;
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
     * {@code v = -buf}. That lets the Nesterov step run as DL4J's native Nesterov kernel with learning rate 1 (which
     * computes {@code v' = m*v - d} and returns {@code m*v - (1+m)*v' = d + m*buf'}, PyTorch's Nesterov direction)
     * followed by one scaling by the current learning rate: two passes over the parameters instead of three.
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
            if (config.momentum == 0) {
                gradient.muli(lr);
                return;
            }
            if (velocity == null) {
                throw new IllegalStateException("TorchSgd has not been given its state view");
            }
            INDArray g = gradient.reshape(velocity.shape());
            if (config.nesterov) {
                // v' = m*v - d; g = m*v - (1+m)*v' = d + m*buf'
                Nd4j.exec(new NesterovsUpdater(g, velocity, 1.0, config.momentum));
                g.muli(lr);
            } else {
                velocity.muli(config.momentum).subi(g);                 // v' = m*v - d = -buf'
                Nd4j.exec(new ScalarMultiplication(velocity, null, g, -lr));   // g = lr * buf'
            }
        }
    }
}
