package org.repopt.gr;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.Axpy;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonIgnore;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.lang.ref.Reference;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;

/**
 * Multiplies one conv kernel's gradient by its fixed Grad Mult ({@link GradMult}; docs/METHOD.md#grad-mult), inside
 * DL4J's own updater pipeline, without ever building the multiplier (docs/METHOD.md#grad-mult-factored).
 *
 * <p>Why a {@link Regularization}: it is the only per-parameter extension point DL4J calls on every update. In
 * {@code UpdaterBlock.update} the {@link ApplyStep#BEFORE_UPDATER BEFORE_UPDATER} entries of a parameter's list
 * run in list order, then the {@code IUpdater}, then the {@link ApplyStep#POST_UPDATER POST_UPDATER} entries.
 * Listed first, before {@code L2Regularization}, this hook gives the Rule of Iteration's order exactly:
 * {@code d = grad * M; d += wd * W; momentum step}. An {@code IUpdater} cannot do this: it runs after L2 and would
 * scale the decay term too. The SGD form's hook can carry the L2 term itself ({@link #sgdWithL2}, what
 * {@code RepOptimizer} attaches): the same {@code d}, one pass over the kernel instead of two. The AdamW form adds a
 * second, {@code POST_UPDATER} instance that multiplies the update by {@code M} again.
 *
 * <p><b>Maskless.</b> {@code M} has per-output-channel structure only, so the hook multiplies DL4J's gradient view in
 * place from per-channel factors (docs/METHOD.md#grad-mult-factored). A groups-1 kernel {@code [out, in, k, k]} is
 * one contiguous row per output channel: the centre taps (a strided {@code [out, in]} view) are multiplied by
 * {@code (s_k^p + s1^p) / s_k^p}, then every row by {@code s_k^p}, then the identity block's {@code out} diagonal
 * centre entries are set from a copy taken first, times {@code s_k^p + s1^p + 1}. Every entry off the centre tap and
 * every diagonal entry is thus the masked form's {@code G * M} bit for bit; a centre entry takes three roundings
 * instead of two and differs from it by at most {@code 5u (|s_k^p| + |s1^p|) |G|} ({@code u} the data type's unit
 * roundoff; {@code GradMultHookTest#masklessEqualsTheMaskedFormUpToTheCentreTapBound}). A channel whose
 * {@code s_k^p} is 0 gets row factor 1 and its taps off the centre set to 0. A depthwise kernel (DL4J's
 * {@code [k, k, C, 1]}) is one contiguous row of {@code C} values per tap: the rows before and after the centre are
 * multiplied by {@code s^p}, the centre row by {@code s^p + 1}, exactly the masked form. ND4J's broadcast along
 * dimension 0 walks columns and is far slower than a pass over the kernel, so the groups-1 passes use its scalar op
 * along rows.
 *
 * <p>On ND4J's CPU backend (host memory) none of those ND4J passes run: one Java pass over the kernel's memory
 * ({@link HostMemory}) multiplies every entry once by its multiplier entry, read from the per-channel factors, so the
 * result is the masked form bit for bit (centre taps included) at one read and one write of the kernel
 * ({@code GradMultHookTest#onTheCpuBackendTheHookIsTheMaskedFormBitForBit}), and adds the L2 term in the same pass;
 * attached with {@link #sgdInTorchSgdStep} (what {@code RepOptimizer} attaches with {@link TorchSgd}) even that pass
 * is left to the updater, which computes the Grad Mult inside its step ({@link Rows}, {@link DeferredGradMults}). The
 * ND4J passes above serve CUDA.
 *
 * <p>Layouts: a groups-1 kernel is {@code [out, in, k, k]} c-order; a depthwise kernel is DL4J's
 * {@code DepthwiseConvolution2D} layout {@code [k, k, C, 1]} c-order. DL4J hands over either that rank-4 view or a
 * flat view of the layer's gradient (which stores the kernel in c order); the hook reshapes it into views and never
 * copies it, and refuses a rank-4 view of another shape or one it cannot view without a copy.
 *
 * <p>Retained state: three per-channel vectors in the gradient's data type ({@code out} values each), built on first
 * use outside every workspace and cached; nothing kernel-sized is kept or allocated per step
 * ({@code GradMultHookTest#retainedStateIsPerChannel}). The AdamW form's two hooks of one kernel each keep their own
 * vectors: {@code 3 * out} values each, too small to be worth sharing (issue 17 item 5).
 *
 * <p>The hook stores the block's scales, not the factors, so it is part of the network configuration: it survives
 * {@code toJson()/fromJson()} and {@code ModelSerializer}.
 */
public final class GradMultHook implements Regularization {

    private static final long serialVersionUID = 1L;

    @JsonProperty("scales")
    private final BlockScales scales;
    @JsonProperty("form")
    private final GradMult.Form form;
    @JsonProperty("step")
    private final ApplyStep step;
    /** The L2 coefficient fused into the pass (0: none); absent from configurations saved before it existed. */
    @JsonProperty("l2")
    private final double l2;
    /** Whether the pass is left to {@link TorchSgd}'s step; absent from configurations saved before it existed. */
    @JsonProperty("inSgdStep")
    private final boolean inSgdStep;

    @JsonIgnore
    private transient volatile Factors factors;

    /**
     * @param scales the block's CSLA scales
     * @param form   SGD (power 2) or AdamW (power 1)
     * @param step   {@code BEFORE_UPDATER} (multiply the gradient) or {@code POST_UPDATER} (multiply the update)
     */
    public GradMultHook(BlockScales scales, GradMult.Form form, ApplyStep step) {
        this(scales, form, step, 0.0, false);
    }

    /**
     * The SGD form's Grad Mult with the kernel's L2 term in the same pass: {@code d = G * M + l2 * W}, what the list
     * {@code [GradMultHook, L2Regularization(l2)]} computes (the same score; the same numbers, except that ND4J's AVX2
     * build fuses the {@code Axpy}'s multiply-add where the host pass rounds {@code l2 * W} first), at one pass over
     * the kernel instead of two.
     *
     * @param scales the block's CSLA scales
     * @param l2     the L2 coefficient, {@code >= 0}
     * @return the hook, {@code BEFORE_UPDATER}
     */
    public static GradMultHook sgdWithL2(BlockScales scales, double l2) {
        return new GradMultHook(scales, GradMult.Form.SGD, ApplyStep.BEFORE_UPDATER, l2, false);
    }

    /**
     * {@link #sgdWithL2}, its pass folded into {@link TorchSgd}'s step on the CPU backend: the hook hands the kernel's
     * rows over ({@link DeferredGradMults}) and the step computes {@code d = G * M + l2 * W} and the momentum step on
     * it in one pass, reading {@code G}, {@code W} and the velocity once and writing the update and the velocity once
     * (five streams over the kernel, where the hook's pass and then the step's move seven). The numbers are those of
     * the two passes bit for bit. The parameter's updater must be {@link TorchSgd} (or {@link TorchAdam}, which runs
     * the pass first): list a {@link GradMultStepCheck} after the hook, so that another updater fails the update
     * before any parameter changes instead of stepping on a gradient without its Grad Mult. Elsewhere (CUDA) the hook
     * runs its own passes.
     *
     * @param scales the block's CSLA scales
     * @param l2     the L2 coefficient, {@code >= 0}
     * @return the hook, {@code BEFORE_UPDATER}
     */
    public static GradMultHook sgdInTorchSgdStep(BlockScales scales, double l2) {
        return new GradMultHook(scales, GradMult.Form.SGD, ApplyStep.BEFORE_UPDATER, l2, true);
    }

    @JsonCreator
    private GradMultHook(@JsonProperty("scales") BlockScales scales,
                         @JsonProperty("form") GradMult.Form form,
                         @JsonProperty("step") ApplyStep step,
                         @JsonProperty("l2") double l2,
                         @JsonProperty("inSgdStep") boolean inSgdStep) {
        this.scales = Objects.requireNonNull(scales, "scales");
        this.form = Objects.requireNonNull(form, "form");
        this.step = Objects.requireNonNull(step, "step");
        if (!(l2 >= 0) || Double.isInfinite(l2)) {
            throw new IllegalArgumentException("block " + scales.block() + ": L2 coefficient must be finite and >= 0, got "
                    + l2);
        }
        if (l2 > 0 && (form != GradMult.Form.SGD || step != ApplyStep.BEFORE_UPDATER)) {
            throw new IllegalArgumentException("block " + scales.block() + ": an L2 term belongs to the SGD form's "
                    + "BEFORE_UPDATER hook, not " + form + " " + step);
        }
        if (inSgdStep && (form != GradMult.Form.SGD || step != ApplyStep.BEFORE_UPDATER)) {
            throw new IllegalArgumentException("block " + scales.block() + ": only the SGD form's BEFORE_UPDATER hook "
                    + "can leave its pass to TorchSgd's step, not " + form + " " + step);
        }
        this.l2 = l2;
        this.inSgdStep = inSgdStep;
    }

    /** @return the scales this hook derives its factors from */
    public BlockScales scales() {
        return scales;
    }

    /** @return SGD or AdamW */
    public GradMult.Form form() {
        return form;
    }

    /** @return the L2 coefficient fused into this hook's pass (0: none) */
    public double l2() {
        return l2;
    }

    /** @return whether the pass is left to {@link TorchSgd}'s step ({@link #sgdInTorchSgdStep}) */
    public boolean inSgdStep() {
        return inSgdStep;
    }

    @Override
    public ApplyStep applyStep() {
        return step;
    }

    /**
     * {@code gradView = gradView * M}, plus {@code l2 * param} where this hook carries an L2 term; attached with
     * {@link #sgdInTorchSgdStep}, on the CPU backend, the pass is left to the updater's step that follows
     * ({@link DeferredGradMults}).
     */
    @Override
    public void apply(INDArray param, INDArray gradView, double lr, int iteration, int epoch) {
        if (l2 != 0 && (param == null || param.length() != gradView.length())) {
            throw new IllegalStateException("block " + scales.block() + ": the L2 term needs the kernel, got "
                    + (param == null ? "none" : Arrays.toString(param.shape())) + " for a gradient of shape "
                    + Arrays.toString(gradView.shape()));
        }
        INDArray kernel = l2 == 0 ? null : param;
        Rows rows = hostRows(gradView, kernel);
        if (rows == null) {
            multiplyWithNd4j(gradView);
            if (kernel != null) {
                // what L2Regularization.apply runs: d = l2 * W + d
                Nd4j.exec(new Axpy(kernel, gradView, gradView, l2));
            }
        } else if (inSgdStep) {
            DeferredGradMults.defer(rows);
        } else {
            rows.multiplyInPlace();
        }
    }

    /**
     * Multiplies {@code gradView} by the Grad Mult in place (no L2 term: what the multiplier alone does to a gradient,
     * e.g. for {@code GradMultEffectListener}); never left to an updater.
     *
     * @param gradView the kernel's gradient (or update): rank 4 in DL4J's layout of the block's kernel, or flat c-order
     * @throws IllegalStateException where its length or shape does not fit the block
     */
    public void multiply(INDArray gradView) {
        Rows rows = hostRows(gradView, null);
        if (rows == null) {
            multiplyWithNd4j(gradView);
        } else {
            rows.multiplyInPlace();
        }
    }

    /** The CUDA path: ND4J ops on views, no kernel-sized temporary. */
    private void multiplyWithNd4j(INDArray gradView) {
        Factors f = factorsFor(gradView);
        int k = scales.kernel();
        int taps = k * k;
        int centre = taps / 2;
        int out = scales.outChannels();
        if (scales.depthwise()) {
            // DL4J's [k, k, C, 1]: each tap is a row of C contiguous values, so the centre is excluded exactly
            INDArray rows = viewAs(gradView, taps, out);
            if (f.centre == null) {
                Nd4j.exec(new BroadcastMulOp(rows, f.rows, rows, 1));
                return;
            }
            INDArray before = view(rows, 0, new long[]{centre, out}, new long[]{out, 1});
            INDArray after = view(rows, (long) (centre + 1) * out, new long[]{taps - centre - 1, out},
                    new long[]{out, 1});
            INDArray tap = view(rows, (long) centre * out, new long[]{1, out}, new long[]{out, 1});
            Nd4j.exec(new BroadcastMulOp(before, f.rows, before, 1));
            Nd4j.exec(new BroadcastMulOp(after, f.rows, after, 1));
            Nd4j.exec(new BroadcastMulOp(tap, f.centre, tap, 1));
            return;
        }
        // [out, in, k, k]: one row of in * k * k contiguous values per output channel
        int in = scales.inChannels();
        INDArray rows = viewAs(gradView, out, (long) in * taps);
        INDArray diagonal = null;
        INDArray diagonalValues = null;
        if (f.diagonal != null) {
            // [o, o, c, c]: a 1-D view with stride (in + 1) * k * k; its out values are kept to be set exactly
            diagonal = view(rows, centre, new long[]{out}, new long[]{(long) (in + 1) * taps});
            // a copy into a fresh contiguous vector (a strided dup costs ~30 times more); per call, so the hook stays
            // immutable and safe to share between threads
            diagonalValues = Nd4j.createUninitialized(diagonal.dataType(), out).assign(diagonal);
        }
        if (f.centre != null) {
            INDArray tap = view(rows, centre, new long[]{out, in}, new long[]{(long) in * taps, taps});
            CentreTapAlgebra.scaleRows(tap, f.centre);
        }
        CentreTapAlgebra.scaleRows(rows, f.rows);
        for (int o : f.zeroRows) {
            // s_k[o]^p == 0: the rows pass used 1, so the taps off the centre still hold G; they get 0
            long row = (long) o * in * taps;
            view(rows, row, new long[]{in, centre}, new long[]{taps, 1}).assign(0);
            view(rows, row + centre + 1, new long[]{in, taps - centre - 1}, new long[]{taps, 1}).assign(0);
        }
        if (diagonal != null) {
            diagonal.assign(diagonalValues.muli(f.diagonal));
        }
    }

    /**
     * The CPU backend's pass over this kernel, as rows of contiguous memory (one output channel; depthwise: one tap),
     * where the gradient (and {@code param}, the kernel, for the L2 term) lives in host memory.
     *
     * @return null where the data type or memory has no host pass (then the ND4J ops run)
     */
    private Rows hostRows(INDArray gradView, INDArray param) {
        if (!HostMemory.addressable(gradView) || param != null && (!HostMemory.addressable(param)
                || param.dataType() != gradView.dataType())) {
            return null;
        }
        Factors f = factorsFor(gradView);
        boolean dw = scales.depthwise();
        int taps = scales.kernel() * scales.kernel();
        int out = scales.outChannels();
        int rowCount = dw ? taps : out;
        int rowLength = dw ? out : scales.inChannels() * taps;
        INDArray rows = viewAs(gradView, rowCount, rowLength);
        INDArray kernel = param == null ? null : viewAs(param, rowCount, rowLength);
        return new Rows(this, f, rows, kernel);
    }

    /**
     * One kernel's Grad Mult on the CPU backend, row by row: the gradient's rows (one output channel; depthwise: one
     * tap) in host memory and, where the hook carries an L2 term, the kernel's rows. {@link #compute} turns a row of
     * {@code G} (and of {@code W}) held in a scratch array into {@code d = G * M (+ l2 * W)}; the caller moves the
     * memory, so the same arithmetic serves the hook's own pass ({@link #multiplyInPlace}) and {@link TorchSgd}'s step,
     * which computes {@code d} and steps on it in one pass when the hook was attached with
     * {@link #sgdInTorchSgdStep}.
     *
     * <p>Every entry is multiplied once by its multiplier entry, read from the per-channel factors (one rounding per
     * multiply and add), so {@code d} is the masked form's {@code G * M} bit for bit, with one read and one write of
     * the kernel (and one read of {@code W}), where ND4J's ops need three passes and a copy of the diagonal (and an
     * {@code Axpy} for L2), and their fixed cost per op dominates on small kernels. A groups-1 row's multiplier entry
     * is {@code a * off[j] + c * cen[j]} with the 0/1 patterns of {@link CentreTaps} (exactly {@code a} off the
     * centre taps and {@code c} on them): one loop the JIT vectorizes, where a strided loop over the centre taps cost
     * a quarter of the pass. The float and double variants are the same code on primitive arrays.
     */
    static final class Rows {
        final GradMultHook hook;
        /** The gradient as {@code [rows, length]} c-order (a view of DL4J's gradient); the kernel likewise, or null. */
        final INDArray gradient;
        final INDArray kernel;
        final int count;
        final int length;
        private final Factors f;
        private final int taps;
        private final int centreTap;
        private final CentreTaps masks;

        private Rows(GradMultHook hook, Factors f, INDArray gradient, INDArray kernel) {
            this.hook = hook;
            this.f = f;
            this.gradient = gradient;
            this.kernel = kernel;
            this.count = (int) gradient.size(0);
            this.length = (int) gradient.size(1);
            this.taps = hook.scales.kernel() * hook.scales.kernel();
            this.centreTap = taps / 2;
            this.masks = hook.scales.depthwise() ? null : CentreTaps.of(length / taps, taps);
        }

        /** @return the block's name (for messages) */
        String block() {
            return hook.scales.block();
        }

        /** @return the L2 coefficient as the hook's pass applies it */
        private float decayFloat() {
            return (float) hook.l2;   // as Axpy takes its coefficient: in the data type
        }

        /** The hook's own pass: {@code d} computed and written back row by row, over several threads where long. */
        void multiplyInPlace() {
            run(null, 0, 0.0, false, 0.0);
        }

        /**
         * Row by row (over several threads where long): the gradient's row (and the kernel's) read, {@code d}
         * computed; where {@code velocity} is given, its row read into the kernel row's scratch (no longer needed) and
         * {@link TorchSgd}'s step taken on both ({@link TorchSgd.HostStep#step}); then written back.
         *
         * @param velocity the velocity, or null for the Grad Mult alone
         * @param v        the index of this kernel's first velocity value in {@code velocity}'s buffer
         */
        void run(INDArray velocity, long v, double momentum, boolean nesterov, double lr) {
            int g0 = (int) gradient.offset();
            int w0 = kernel == null ? -1 : (int) kernel.offset();
            int v0 = (int) v;
            if (gradient.dataType() == DataType.FLOAT) {
                FloatBuffer gb = HostMemory.floats(gradient);
                FloatBuffer wb = kernel == null ? null : HostMemory.floats(kernel);
                FloatBuffer vb = velocity == null ? null : HostMemory.floats(velocity);
                float m = (float) momentum;
                float rate = (float) (nesterov ? lr : -lr);
                HostMemory.forEach(count, gradient.length(), r -> {
                    float[] x = HostMemory.floatScratch(0, length);
                    float[] y = HostMemory.floatScratch(1, length);
                    HostMemory.read(gb, g0 + r * length, x, length);
                    if (wb != null) {
                        HostMemory.read(wb, w0 + r * length, y, length);
                    }
                    compute(r, x, y);
                    if (vb != null) {
                        HostMemory.read(vb, v0 + r * length, y, length);
                        TorchSgd.HostStep.step(x, y, length, m, nesterov, rate);
                        HostMemory.write(vb, v0 + r * length, y, length);
                    }
                    HostMemory.write(gb, g0 + r * length, x, length);
                });
            } else {
                DoubleBuffer gb = HostMemory.doubles(gradient);
                DoubleBuffer wb = kernel == null ? null : HostMemory.doubles(kernel);
                DoubleBuffer vb = velocity == null ? null : HostMemory.doubles(velocity);
                double rate = nesterov ? lr : -lr;
                HostMemory.forEach(count, gradient.length(), r -> {
                    double[] x = HostMemory.doubleScratch(0, length);
                    double[] y = HostMemory.doubleScratch(1, length);
                    HostMemory.read(gb, g0 + r * length, x, length);
                    if (wb != null) {
                        HostMemory.read(wb, w0 + r * length, y, length);
                    }
                    compute(r, x, y);
                    if (vb != null) {
                        HostMemory.read(vb, v0 + r * length, y, length);
                        TorchSgd.HostStep.step(x, y, length, momentum, nesterov, rate);
                        HostMemory.write(vb, v0 + r * length, y, length);
                    }
                    HostMemory.write(gb, g0 + r * length, x, length);
                });
            }
            HostMemory.keepAlive(gradient, kernel);
            Reference.reachabilityFence(velocity);
        }

        /**
         * Row {@code r}: {@code x[0..length)} holds the gradient's row and becomes {@code d}; {@code y} holds the
         * kernel's row where there is an L2 term (else it is not read).
         */
        void compute(int r, float[] x, float[] y) {
            float[][] m = f.hostFloat;
            float decay = kernel == null ? 0f : decayFloat();
            if (masks == null) {
                float[] factor = r == centreTap ? m[1] : m[0];
                for (int c = 0; c < length; c++) {
                    x[c] *= factor[c];
                }
                if (kernel != null) {
                    for (int c = 0; c < length; c++) {
                        x[c] += decay * y[c];
                    }
                }
                return;
            }
            float a = m[0][r];
            float c = m[1][r];
            float[] off = masks.offFloat;
            float[] cen = masks.centreFloat;
            int diagonal = r < length / taps ? r * taps + centreTap : -1;   // the o == i centre entry, if any
            float gd = diagonal < 0 ? 0f : x[diagonal];
            if (kernel == null) {
                for (int j = 0; j < length; j++) {
                    x[j] *= a * off[j] + c * cen[j];
                }
                if (diagonal >= 0) {
                    x[diagonal] = gd * m[2][r];
                }
            } else {
                for (int j = 0; j < length; j++) {
                    x[j] = x[j] * (a * off[j] + c * cen[j]) + decay * y[j];
                }
                if (diagonal >= 0) {
                    x[diagonal] = gd * m[2][r] + decay * y[diagonal];
                }
            }
        }

        /** {@link #compute(int, float[], float[])} in double. */
        void compute(int r, double[] x, double[] y) {
            double decay = kernel == null ? 0.0 : hook.l2;
            if (masks == null) {
                double[] factor = r == centreTap ? f.hostCentre : f.hostAll;
                for (int c = 0; c < length; c++) {
                    x[c] *= factor[c];
                }
                if (kernel != null) {
                    for (int c = 0; c < length; c++) {
                        x[c] += decay * y[c];
                    }
                }
                return;
            }
            double a = f.hostAll[r];
            double c = f.hostCentre[r];
            double[] off = masks.offDouble;
            double[] cen = masks.centreDouble;
            int diagonal = r < length / taps ? r * taps + centreTap : -1;
            double gd = diagonal < 0 ? 0.0 : x[diagonal];
            if (kernel == null) {
                for (int j = 0; j < length; j++) {
                    x[j] *= a * off[j] + c * cen[j];
                }
                if (diagonal >= 0) {
                    x[diagonal] = gd * f.hostDiagonal[r];
                }
            } else {
                for (int j = 0; j < length; j++) {
                    x[j] = x[j] * (a * off[j] + c * cen[j]) + decay * y[j];
                }
                if (diagonal >= 0) {
                    x[diagonal] = gd * f.hostDiagonal[r] + decay * y[diagonal];
                }
            }
        }
    }

    /**
     * The 0/1 patterns of a groups-1 kernel row {@code [in, taps]}: {@code off} is 1 off the centre taps,
     * {@code centre} 1 on them. {@code a * off[j] + c * centre[j]} is then exactly {@code a} or {@code c} (one term is
     * a product by 1, the other a signed zero), for finite factors. Shared by every kernel of one row shape (a few KB
     * each, built once).
     */
    private static final class CentreTaps {
        private static final Map<Long, CentreTaps> SHAPES = new ConcurrentHashMap<>();
        final float[] offFloat;
        final float[] centreFloat;
        final double[] offDouble;
        final double[] centreDouble;

        private CentreTaps(int in, int taps) {
            int length = in * taps;
            offDouble = new double[length];
            centreDouble = new double[length];
            offFloat = new float[length];
            centreFloat = new float[length];
            for (int j = 0; j < length; j++) {
                boolean centre = j % taps == taps / 2;
                offDouble[j] = centre ? 0 : 1;
                centreDouble[j] = centre ? 1 : 0;
                offFloat[j] = (float) offDouble[j];
                centreFloat[j] = (float) centreDouble[j];
            }
        }

        static CentreTaps of(int in, int taps) {
            return SHAPES.computeIfAbsent(((long) in << 32) | taps, key -> new CentreTaps(in, taps));
        }
    }

    /**
     * A view of the c-order contiguous {@code rows}' memory, {@code from} values after its start. Built directly, not
     * with {@code get(...)}: ND4J 1.0.0-M2.1 returns an empty array for {@code get(interval, all())} on a view that
     * starts inside a larger buffer (a layer's gradient inside the network's).
     */
    private static INDArray view(INDArray rows, long from, long[] shape, long[] stride) {
        return Nd4j.create(rows.data(), shape, stride, rows.offset() + from, 'c');
    }

    /** @return {@code a} viewed as {@code shape} in c order, contiguous, sharing its memory */
    private INDArray viewAs(INDArray a, long... shape) {
        INDArray v = Arrays.equals(a.shape(), shape) ? a : a.reshape('c', shape);
        if (v.data().address() != a.data().address() || v.offset() != a.offset()
                || !Arrays.equals(v.stride(), Nd4j.getStrides(shape, 'c'))) {
            throw new IllegalStateException("block " + scales.block() + ": cannot view the gradient of shape "
                    + Arrays.toString(a.shape()) + " (order " + a.ordering() + ", strides " + Arrays.toString(a.stride())
                    + ") as a contiguous c-order " + Arrays.toString(shape) + " without copying it");
        }
        return v;
    }

    private Factors factorsFor(INDArray gradView) {
        Factors f = factors;
        if (f == null || f.type != gradView.dataType()) {
            long[] expected = Reinit.dl4jShape(scales);
            boolean fits = gradView.rank() == 4 ? Arrays.equals(gradView.shape(), expected)
                    : gradView.length() == scales.kernelLength();
            if (!fits) {
                throw new IllegalStateException("block " + scales.block() + ": Grad Mult is " + Arrays.toString(expected)
                        + " (" + scales.kernelLength() + " values" + (scales.depthwise()
                        ? ", DL4J's depthwise layout [k, k, C, 1]" : "") + "), but the parameter it is attached to has "
                        + "shape " + Arrays.toString(gradView.shape()));
            }
            f = new Factors(scales, form, gradView.dataType());
            factors = f;
        }
        return f;
    }

    /** @return the INDArrays this hook keeps between updates (empty before its first use) */
    INDArray[] retainedArrays() {
        Factors f = factors;
        return f == null ? new INDArray[0] : Arrays.stream(new INDArray[]{f.rows, f.centre, f.diagonal})
                .filter(Objects::nonNull).toArray(INDArray[]::new);
    }

    /**
     * The per-output-channel factors in one data type, at most three vectors of {@code out} values.
     *
     * <p>Depthwise: {@code rows = s^p} (every tap), {@code centre = s^p + 1} for an identity block (else
     * {@code null}), each formed in the data type as {@link GradMult#create} forms the multiplier: exact.
     *
     * <p>Groups 1: {@code rows = r = s_k^p} (1 where it is 0: {@link #zeroRows} lists those channels, whose taps off the
     * centre are set to 0), applied to whole rows, after the centre taps were multiplied by
     * {@code centre = (s_k^p + s1^p) / r} (formed in double, rounded once; {@code null} where every entry is 1, i.e.
     * no 1x1 branch); {@code diagonal = (s_k^p + s1^p) + 1} formed in the data type as the masked form does, applied to
     * a copy of the diagonal's gradient.
     */
    private static final class Factors {
        final DataType type;
        final INDArray rows;
        final INDArray centre;
        final INDArray diagonal;
        final int[] zeroRows;
        /** The multiplier's entries per output channel, as the data type holds them: every tap off the centre. */
        final double[] hostAll;
        /** ... the centre tap ({@code s_k^p + s1^p}; depthwise {@code s^p [+ 1]}). */
        final double[] hostCentre;
        /** ... the centre tap of the diagonal {@code o == i} (the centre tap's value where there is no identity). */
        final double[] hostDiagonal;
        /** {@link #hostAll}, {@link #hostCentre}, {@link #hostDiagonal} in float, for a FLOAT kernel; else null. */
        final float[][] hostFloat;

        Factors(BlockScales s, GradMult.Form form, DataType type) {
            this.type = type;
            double[] a = GradMult.powered(s.scaleConv(), form);
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                INDArray aT = vector(a, type);
                hostAll = aT.toDoubleVector();
                if (s.depthwise()) {
                    rows = aT;
                    centre = s.hasIdentity() ? aT.add(1.0) : null;
                    diagonal = null;
                    zeroRows = new int[0];
                    hostCentre = centre == null ? hostAll : centre.toDoubleVector();
                    hostDiagonal = hostCentre;
                    hostFloat = inFloat(type, hostAll, hostCentre, hostDiagonal);
                    return;
                }
                INDArray bT = vector(s.hasConv1x1() ? GradMult.powered(s.scale1x1(), form) : new double[a.length], type);
                // the factors as the data type holds them, so that without a 1x1 branch the centre factor is 1
                double[] aRounded = aT.toDoubleVector();
                double[] bRounded = bT.toDoubleVector();
                double[] r = new double[a.length];
                double[] c = new double[a.length];
                boolean centrePass = false;
                for (int o = 0; o < a.length; o++) {
                    r[o] = aRounded[o] == 0 ? 1.0 : aRounded[o];
                    c[o] = (aRounded[o] + bRounded[o]) / r[o];
                    centrePass |= c[o] != 1.0;
                }
                zeroRows = IntStream.range(0, a.length).filter(o -> aRounded[o] == 0).toArray();
                rows = zeroRows.length == 0 ? aT : vector(r, type);
                centre = centrePass ? vector(c, type) : null;
                INDArray centreEntry = s.hasConv1x1() ? aT.add(bT) : aT;
                diagonal = !s.hasIdentity() ? null : centreEntry.add(1.0);
                hostCentre = centreEntry.toDoubleVector();
                hostDiagonal = diagonal == null ? hostCentre : diagonal.toDoubleVector();
                hostFloat = inFloat(type, hostAll, hostCentre, hostDiagonal);
            }
        }

        private static float[][] inFloat(DataType type, double[]... factors) {
            if (type != DataType.FLOAT) {
                return null;
            }
            float[][] out = new float[factors.length][];
            for (int i = 0; i < factors.length; i++) {
                out[i] = toFloat(factors[i]);
            }
            return out;
        }

        private static float[] toFloat(double[] v) {
            float[] out = new float[v.length];
            for (int i = 0; i < v.length; i++) {
                out[i] = (float) v[i];
            }
            return out;
        }

        private static INDArray vector(double[] values, DataType type) {
            return Nd4j.create(values, new long[]{values.length}, DataType.DOUBLE).castTo(type);
        }
    }

    /** @return the L2 term's score as {@code L2Regularization} computes it; 0 without one (M changes no loss) */
    @Override
    public double score(INDArray param, int iteration, int epoch) {
        if (l2 == 0) {
            return 0.0;
        }
        double norm2 = param.norm2Number().doubleValue();
        return l2 * 0.5 * norm2 * norm2;
    }

    @Override
    public Regularization clone() {
        return new GradMultHook(scales, form, step, l2, inSgdStep);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof GradMultHook)) {
            return false;
        }
        GradMultHook that = (GradMultHook) o;
        return scales.equals(that.scales) && form == that.form && step == that.step
                && Double.compare(l2, that.l2) == 0 && inSgdStep == that.inSgdStep;
    }

    @Override
    public int hashCode() {
        return Objects.hash(scales, form, step, l2, inSgdStep);
    }

    @Override
    public String toString() {
        return "GradMultHook{" + scales.block() + ", " + form + ", " + step + (l2 == 0 ? "" : ", l2=" + l2)
                + (inSgdStep ? ", in TorchSgd's step" : "") + "}";
    }
}
