package org.repopt.nn;

import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.BaseActivationFunction;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The hard sigmoid of MobileNetV3, GhostNet and PyTorch's {@code F.hardsigmoid}: {@code relu6(x + 3) / 6}, the gate
 * of a squeeze-and-excitation block.
 *
 * <p>DL4J's own {@code Activation.HARDSIGMOID} is Keras's {@code clamp(0.2 x + 0.5, 0, 1)}: slope 0.2 instead of 1/6
 * and saturation at {@code |x| = 2.5} instead of 3, so it is a different function (0.7 against 0.667 at
 * {@code x = 1}). This one computes the reference's expression in its order: add 3, clamp to {@code [0, 6]}, divide
 * by 6. Its derivative is 1/6 where {@code 0 < x + 3 < 6} and 0 elsewhere, boundaries included, as PyTorch's
 * {@code relu6} backward. Serializable like any DL4J activation (by class name).
 */
public class ActivationTorchHardSigmoid extends BaseActivationFunction {

    private static final long serialVersionUID = 1L;

    private static final double SHIFT = 3.0;
    private static final double RANGE = 6.0;

    @Override
    public INDArray getActivation(INDArray in, boolean training) {
        in.addi(SHIFT);
        Transforms.max(in, 0.0, false);
        Transforms.min(in, RANGE, false);
        return in.divi(RANGE);
    }

    @Override
    public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
        assertShape(in, epsilon);
        INDArray shifted = in.add(SHIFT);
        INDArray inside = shifted.gt(0.0).castTo(in.dataType()).muli(shifted.lt(RANGE).castTo(in.dataType()));
        in.assign(epsilon.div(RANGE).muli(inside));
        return new Pair<>(in, null);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ActivationTorchHardSigmoid;
    }

    @Override
    public int hashCode() {
        return ActivationTorchHardSigmoid.class.hashCode();
    }

    @Override
    public String toString() {
        return "torchhardsigmoid";
    }
}
