package org.repopt.gr;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scalar.ScalarMultiplication;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The one shape both the Grad Mult and the Rule of Initialization have (docs/METHOD.md#grad-mult-factored): on a
 * kernel {@code [out, in / groups, k, k]} with centre tap {@code c = k / 2},
 * <pre>{@code K[o, i, p, q] = a[o] * K[o, i, p, q] + (p == q == c ? b[o] * C[o, i] + (i == j(o) ? d[o] : 0) : 0)}</pre>
 * where {@code j(o) = o} for a full kernel (the diagonal, {@code in == out}) and {@code j(o) = 0} for a depthwise one
 * ({@code in / groups == 1}), computed with ND4J ops in the kernel's own data type, so a large kernel never passes
 * through a Java array. {@link GradMult#create} and the Rule of Initialization use it; {@link GradMultHook} applies
 * the Grad Mult's instance of it in place without building {@code M}.
 */
final class CentreTapAlgebra {

    private CentreTapAlgebra() {
    }

    /**
     * Applies the map in place.
     *
     * @param kernel   the {@code [out, in / groups, k, k]} kernel to overwrite (k odd), c-order (its rows are viewed)
     * @param perOut   {@code a}, one per output channel
     * @param centre   {@code C}, {@code [out, in / groups]} values, or {@code null} for all ones
     * @param perOutC  {@code b}, one per output channel, or {@code null} for no {@code b * C} term
     * @param diagonal {@code d}, one per output channel, or {@code null} for none (needs {@code in / groups} to be
     *                 {@code out} or 1)
     * @return {@code kernel}
     */
    static INDArray apply(INDArray kernel, double[] perOut, INDArray centre, double[] perOutC, double[] diagonal) {
        return apply(kernel, perOut, centre, perOutC, diagonal, false);
    }

    /**
     * {@link #apply} where {@code centre} is the caller's own scratch, scaled in place instead of copied (the Rule of
     * Initialization's freshly drawn 1x1 kernel, of the kernel's data type).
     */
    static INDArray applyConsumingCentre(INDArray kernel, double[] perOut, INDArray centre, double[] perOutC,
                                         double[] diagonal) {
        return apply(kernel, perOut, centre, perOutC, diagonal, centre != null
                && centre.dataType() == kernel.dataType());
    }

    private static INDArray apply(INDArray kernel, double[] perOut, INDArray centre, double[] perOutC,
                                  double[] diagonal, boolean centreIsScratch) {
        DataType type = kernel.dataType();
        int c = (int) kernel.size(2) / 2;
        scaleRows(kernel.reshape('c', new long[]{kernel.size(0), kernel.length() / kernel.size(0)}),
                vector(perOut, type));
        INDArray tap = kernel.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.point(c),
                NDArrayIndex.point(c));
        if (perOutC != null) {
            INDArray t = centre == null ? Nd4j.ones(type, tap.shape())
                    : centreIsScratch ? centre.reshape(tap.shape()) : centre.reshape(tap.shape()).castTo(type).dup();
            scaleRows(t, vector(perOutC, type));
            tap.addi(t);
            if (!centreIsScratch) {
                t.close();   // off-heap: freed now rather than at the next GC
            }
        }
        if (diagonal != null) {
            boolean depthwise = tap.size(1) == 1;
            for (int o = 0; o < diagonal.length; o++) {
                int i = depthwise ? 0 : o;
                tap.putScalar(o, i, tap.getDouble(o, i) + diagonal[o]);
            }
        }
        return kernel;
    }

    /**
     * {@code x[o, :] *= s[o]} in place, for a rank-2 array whose rows may be strided: ND4J's scalar op along
     * dimension 1, one scalar per row. (Its broadcast along dimension 0 walks columns, and costs about 80 times a
     * pass over the array at 512 channels.)
     *
     * @param x a rank-2 array or view
     * @param s one factor per row, in {@code x}'s data type
     */
    static void scaleRows(INDArray x, INDArray s) {
        ScalarMultiplication op = new ScalarMultiplication(x, s, x, 0.0);
        op.setDimension(1);
        Nd4j.getExecutioner().exec(op);
    }

    private static INDArray vector(double[] values, DataType type) {
        return Nd4j.create(values, new long[]{values.length}, DataType.DOUBLE).castTo(type);
    }
}
