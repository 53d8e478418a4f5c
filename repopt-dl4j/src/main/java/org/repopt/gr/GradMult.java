package org.repopt.gr;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * The Grad Mult of one re-parameterized 3x3 kernel (Ding et al., ICLR 2023, eq. 5; REFERENCE section 3).
 *
 * <p>For a kernel laid out {@code [out, in, 3, 3]} and power {@code p}:
 * <pre>{@code
 * M[o,i,p,q]  = s3[o]^p                 every position
 * M[o,i,1,1] += s1[o]^p                 centre tap
 * M[c,c,1,1] += 1                       diagonal centre, identity blocks only (a constant, not sid^p)
 * }</pre>
 * The SGD form uses {@code p = 2} and makes training exactly equivalent to the CSLA block; the AdamW form
 * uses {@code p = 1} and is approximate. {@link #sum} and {@link #at} give check figures without building it.
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

    /** Kernel height and width of every re-parameterized conv. */
    public static final int KERNEL = 3;
    private static final int CENTRE = 1;

    private GradMult() {
    }

    /**
     * The sum of all entries of the multiplier, without building it:
     * {@code in * sum_o(9 s3[o]^p + s1[o]^p) + (identity ? out : 0)}.
     *
     * @param scales the block's CSLA scales
     * @param form   SGD or AdamW
     * @return the sum of {@link #values}
     */
    public static double sum(BlockScales scales, Form form) {
        double[] s3 = scales.scaleConv();
        double[] s1 = scales.scale1x1();
        double perInput = 0;
        for (int o = 0; o < s3.length; o++) {
            perInput += KERNEL * KERNEL * Math.pow(s3[o], form.power()) + Math.pow(s1[o], form.power());
        }
        return scales.inChannels() * perInput + (scales.hasIdentity() ? scales.outChannels() : 0);
    }

    /**
     * One entry of the multiplier, without building it.
     *
     * @return {@code M[o, i, p, q]}
     * @throws IndexOutOfBoundsException outside {@code [out, in, 3, 3]}
     */
    public static double at(BlockScales scales, Form form, int o, int i, int p, int q) {
        if (o < 0 || o >= scales.outChannels() || i < 0 || i >= scales.inChannels() || p < 0 || p >= KERNEL
                || q < 0 || q >= KERNEL) {
            throw new IndexOutOfBoundsException("block " + scales.block() + ": [" + o + ", " + i + ", " + p + ", " + q
                    + "] outside [" + scales.outChannels() + ", " + scales.inChannels() + ", 3, 3]");
        }
        double m = Math.pow(scales.scaleConv()[o], form.power());
        if (p == CENTRE && q == CENTRE) {
            m += Math.pow(scales.scale1x1()[o], form.power());
            if (scales.hasIdentity() && o == i) {
                m += 1.0;
            }
        }
        return m;
    }

    /**
     * Creates the multiplier as an array detached from every workspace, so it can be cached across iterations.
     *
     * @param scales   the block's CSLA scales
     * @param form     SGD or AdamW
     * @param dataType the data type of the kernel it will multiply
     * @return an {@code [out, in, 3, 3]} array
     */
    public static INDArray create(BlockScales scales, Form form, DataType dataType) {
        double[] all = powered(scales.scaleConv(), form);
        double[] centre = powered(scales.scale1x1(), form);
        double[] identity = null;
        if (scales.hasIdentity()) {
            identity = new double[scales.outChannels()];
            Arrays.fill(identity, 1.0);
        }
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            INDArray m = Nd4j.ones(dataType, scales.outChannels(), scales.inChannels(), KERNEL, KERNEL);
            return CentreTapAlgebra.apply(m, all, null, centre, identity);
        }
    }

    private static double[] powered(double[] s, Form form) {
        double[] out = new double[s.length];
        for (int o = 0; o < s.length; o++) {
            out[o] = Math.pow(s[o], form.power());
        }
        return out;
    }
}
