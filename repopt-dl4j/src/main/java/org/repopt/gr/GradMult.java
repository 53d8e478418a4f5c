package org.repopt.gr;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * The Grad Mult of one re-parameterized kernel (Ding et al., ICLR 2023, eq. 5; docs/METHOD.md#grad-mult) as numbers:
 * its sum and single entries (a scales file's check figures), and the whole multiplier for tests and check figures.
 * Training never builds it: {@link GradMultHook} applies it from per-channel vectors
 * (docs/METHOD.md#grad-mult-factored).
 *
 * <p>For a kernel laid out as PyTorch does, {@code [out, in / groups, k, k]}, centre tap {@code c = k / 2}, and power
 * {@code p}:
 * <pre>{@code
 * M[o,i,p,q]  = s_k[o]^p                every position
 * M[o,i,c,c] += s1[o]^p                 centre tap, blocks with a 1x1 branch
 * M[o,o,c,c] += 1                       diagonal centre, identity blocks (a constant, not sid^p);
 *                                       depthwise: M[o,0,c,c] += 1
 * }</pre>
 * The SGD form uses {@code p = 2} and makes training exactly equivalent to the CSLA block; the AdamW form
 * uses {@code p = 1} and is approximate.
 */
public final class GradMult {

    /** Which optimizer family the multiplier is derived for: the power applied to the scales. */
    public enum Form {
        /** SGD (with or without momentum): power 2, exact equivalence. */
        SGD(2),
        /** AdamW: power 1, applied to the gradient and again to the update. */
        ADAMW(1);

        private final int power;

        Form(int power) {
            this.power = power;
        }

        /** @return the power the per-channel scales are raised to */
        public int power() {
            return power;
        }
    }

    /** Kernel height and width of a re-parameterized conv that does not say otherwise. */
    public static final int KERNEL = BlockScales.DEFAULT_KERNEL;

    private GradMult() {
    }

    /**
     * The sum of all entries of the multiplier, without building it:
     * {@code in / groups * sum_o(k^2 s_k[o]^p + s1[o]^p) + (identity ? out : 0)} ({@code s1} taken as 0 without a
     * 1x1 branch).
     *
     * @param scales the block's CSLA scales
     * @param form   SGD or AdamW
     * @return the sum of the multiplier's entries
     */
    public static double sum(BlockScales scales, Form form) {
        double[] sk = scales.scaleConv();
        double[] s1 = scales.scale1x1();
        int taps = scales.kernel() * scales.kernel();
        double perInput = 0;
        for (int o = 0; o < sk.length; o++) {
            perInput += taps * Math.pow(sk[o], form.power()) + (s1 == null ? 0.0 : Math.pow(s1[o], form.power()));
        }
        return scales.inChannelsPerGroup() * perInput + (scales.hasIdentity() ? scales.outChannels() : 0);
    }

    /**
     * One entry of the multiplier, without building it.
     *
     * @param i the input channel within the group: {@code 0} for a depthwise kernel
     * @return {@code M[o, i, p, q]} in the layout {@code [out, in / groups, k, k]}
     * @throws IndexOutOfBoundsException outside that shape
     */
    public static double at(BlockScales scales, Form form, int o, int i, int p, int q) {
        int k = scales.kernel();
        if (o < 0 || o >= scales.outChannels() || i < 0 || i >= scales.inChannelsPerGroup() || p < 0 || p >= k
                || q < 0 || q >= k) {
            throw new IndexOutOfBoundsException("block " + scales.block() + ": [" + o + ", " + i + ", " + p + ", " + q
                    + "] outside " + Arrays.toString(shape(scales)));
        }
        double m = Math.pow(scales.scaleConv()[o], form.power());
        int centre = k / 2;
        if (p == centre && q == centre) {
            if (scales.hasConv1x1()) {
                m += Math.pow(scales.scale1x1()[o], form.power());
            }
            if (scales.hasIdentity() && (scales.depthwise() || o == i)) {
                m += 1.0;
            }
        }
        return m;
    }

    /**
     * @param scales a block's scales
     * @return the shape of its kernel as PyTorch lays it out, {@code [out, in / groups, k, k]}
     */
    public static long[] shape(BlockScales scales) {
        return new long[]{scales.outChannels(), scales.inChannelsPerGroup(), scales.kernel(), scales.kernel()};
    }

    /**
     * Creates the whole multiplier (for tests and check figures: training uses {@link GradMultHook}, which never
     * builds it), detached from every workspace.
     *
     * @param scales   the block's CSLA scales
     * @param form     SGD or AdamW
     * @param dataType the data type of the kernel it would multiply
     * @return an {@code [out, in / groups, k, k]} array (PyTorch's layout, also for a depthwise kernel)
     */
    public static INDArray create(BlockScales scales, Form form, DataType dataType) {
        double[] identity = null;
        if (scales.hasIdentity()) {
            identity = new double[scales.outChannels()];
            Arrays.fill(identity, 1.0);
        }
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            INDArray m = Nd4j.ones(dataType, shape(scales));
            return CentreTapAlgebra.apply(m, powered(scales.scaleConv(), form), null,
                    scales.hasConv1x1() ? powered(scales.scale1x1(), form) : null, identity);
        }
    }

    /**
     * @param s    per-channel scales
     * @param form the power
     * @return {@code s[o]^power}, computed in double
     */
    static double[] powered(double[] s, Form form) {
        double[] out = new double[s.length];
        for (int o = 0; o < s.length; o++) {
            out[o] = Math.pow(s[o], form.power());
        }
        return out;
    }
}
