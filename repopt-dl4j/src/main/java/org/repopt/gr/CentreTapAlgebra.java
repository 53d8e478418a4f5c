package org.repopt.gr;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The one shape both the Grad Mult and the Rule of Initialization have: on a {@code [out, in, 3, 3]} kernel,
 * <pre>{@code K[o, i, p, q] = a[o] * K[o, i, p, q] + (p == q == 1 ? b[o] * C[o, i] + (o == i ? d[o] : 0) : 0)}</pre>
 * computed with ND4J ops in the kernel's own data type, so a large kernel never passes through a Java array.
 */
final class CentreTapAlgebra {

    private static final int CENTRE = 1;

    private CentreTapAlgebra() {
    }

    /**
     * Applies the map in place.
     *
     * @param kernel   the {@code [out, in, 3, 3]} kernel to overwrite
     * @param perOut   {@code a}, one per output channel
     * @param centre   {@code C}, {@code [out, in]}, or {@code null} for all ones
     * @param perOutC  {@code b}, one per output channel
     * @param diagonal {@code d}, one per output channel, or {@code null} for none (needs {@code in == out})
     * @return {@code kernel}
     */
    static INDArray apply(INDArray kernel, double[] perOut, INDArray centre, double[] perOutC, double[] diagonal) {
        DataType type = kernel.dataType();
        Nd4j.exec(new BroadcastMulOp(kernel, vector(perOut, type), kernel, 0));
        INDArray tap = kernel.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.point(CENTRE),
                NDArrayIndex.point(CENTRE));
        INDArray c = centre == null ? Nd4j.ones(type, tap.shape()) : centre.reshape(tap.shape()).castTo(type).dup();
        Nd4j.exec(new BroadcastMulOp(c, vector(perOutC, type), c, 0));
        tap.addi(c);
        if (diagonal != null) {
            for (int o = 0; o < diagonal.length; o++) {
                tap.putScalar(o, o, tap.getDouble(o, o) + diagonal[o]);
            }
        }
        return kernel;
    }

    private static INDArray vector(double[] values, DataType type) {
        return Nd4j.create(values, new long[]{values.length}, DataType.DOUBLE).castTo(type);
    }
}
