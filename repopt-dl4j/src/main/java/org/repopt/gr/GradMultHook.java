package org.repopt.gr;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonIgnore;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Arrays;
import java.util.Objects;

/**
 * Multiplies one conv kernel's gradient by its fixed Grad Mult ({@link GradMult}; docs/METHOD.md#grad-mult), inside
 * DL4J's own updater pipeline, without ever building the multiplier (docs/METHOD.md#grad-mult-factored).
 *
 * <p>Why a {@link Regularization}: it is the only per-parameter extension point DL4J calls on every update. In
 * {@code UpdaterBlock.update} the {@link ApplyStep#BEFORE_UPDATER BEFORE_UPDATER} entries of a parameter's list
 * run in list order, then the {@code IUpdater}, then the {@link ApplyStep#POST_UPDATER POST_UPDATER} entries.
 * Listed first, before {@code L2Regularization}, this hook gives the Rule of Iteration's order exactly:
 * {@code d = grad * M; d += wd * W; momentum step}. An {@code IUpdater} cannot do this: it runs after L2 and would
 * scale the decay term too. The AdamW form adds a second, {@code POST_UPDATER} instance that multiplies the
 * update by {@code M} again.
 *
 * <p><b>Maskless.</b> {@code M} has per-output-channel structure only, so the hook multiplies DL4J's gradient view in
 * place, tap group by tap group: the taps before the centre and those after it by {@code s_k[o]^p} (two broadcast
 * multiplies over views of the kernel), the centre tap by {@code s_k[o]^p + s1[o]^p}, and the identity block's
 * diagonal centre entries ({@code [o, o, c, c]}; depthwise {@code [c, 0, c, c]}) by that plus 1, from a copy of
 * those {@code out} entries taken first. Each entry is thus rounded once, from the very factor the masked form
 * {@code G * M} multiplies it by (the factors are formed in the gradient's data type as {@link GradMult#create}
 * forms {@code M}): the result equals the masked form bit for bit (docs/METHOD.md#grad-mult-factored states the
 * bound; {@code GradMultHookTest#masklessEqualsTheMaskedFormExactly}). Without a 1x1 branch or identity the whole
 * kernel is one broadcast multiply.
 *
 * <p>Layouts: a groups-1 kernel is {@code [out, in, k, k]} c-order; a depthwise kernel is DL4J's
 * {@code DepthwiseConvolution2D} layout {@code [k, k, C, 1]} c-order (PyTorch's {@code [C, 1, k, k]} is accepted when
 * the view has that rank-4 shape). DL4J hands over either that rank-4 view or a flat view of the layer's gradient
 * (which stores the kernel in c order); the hook reshapes it into views and never copies it, and refuses one it
 * cannot view.
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

    @JsonIgnore
    private transient volatile Factors factors;

    /**
     * @param scales the block's CSLA scales
     * @param form   SGD (power 2) or AdamW (power 1)
     * @param step   {@code BEFORE_UPDATER} (multiply the gradient) or {@code POST_UPDATER} (multiply the update)
     */
    @JsonCreator
    public GradMultHook(@JsonProperty("scales") BlockScales scales,
                        @JsonProperty("form") GradMult.Form form,
                        @JsonProperty("step") ApplyStep step) {
        this.scales = Objects.requireNonNull(scales, "scales");
        this.form = Objects.requireNonNull(form, "form");
        this.step = Objects.requireNonNull(step, "step");
    }

    /** @return the scales this hook derives its factors from */
    public BlockScales scales() {
        return scales;
    }

    /** @return SGD or AdamW */
    public GradMult.Form form() {
        return form;
    }

    @Override
    public ApplyStep applyStep() {
        return step;
    }

    @Override
    public void apply(INDArray param, INDArray gradView, double lr, int iteration, int epoch) {
        multiplyInPlace(gradView);
    }

    /**
     * Multiplies {@code gradView} by the Grad Mult in place.
     *
     * @param gradView the kernel's gradient (or update): rank 4 in one of the layouts above, or flat c-order
     * @throws IllegalStateException where its length or shape does not fit the block
     */
    void multiplyInPlace(INDArray gradView) {
        Factors f = factorsFor(gradView);
        int k = scales.kernel();
        int taps = k * k;
        int centre = taps / 2;
        int out = scales.outChannels();
        if (scales.depthwise() && !(gradView.rank() == 4 && gradView.size(0) == out && gradView.size(1) == 1
                && out > 1)) {
            // DL4J's [k, k, C, 1]: taps are rows of C contiguous values
            INDArray rows = viewAs(gradView, taps, out);
            if (f.centre == null) {
                Nd4j.exec(new BroadcastMulOp(rows, f.everyTap, rows, 1));
                return;
            }
            INDArray before = rows.get(NDArrayIndex.interval(0, centre), NDArrayIndex.all());
            INDArray after = rows.get(NDArrayIndex.interval(centre + 1, taps), NDArrayIndex.all());
            Nd4j.exec(new BroadcastMulOp(before, f.everyTap, before, 1));
            Nd4j.exec(new BroadcastMulOp(after, f.everyTap, after, 1));
            rows.get(NDArrayIndex.point(centre), NDArrayIndex.all()).muli(f.centre);
            return;
        }
        int inPerGroup = scales.inChannelsPerGroup();
        if (f.centre == null) {
            INDArray perOut = viewAs(gradView, out, (long) inPerGroup * taps);
            Nd4j.exec(new BroadcastMulOp(perOut, f.everyTap, perOut, 0));
            return;
        }
        INDArray kernel = viewAs(gradView, out, inPerGroup, taps);
        INDArray diagonal = null;
        INDArray diagonalValues = null;
        if (f.diagonal != null) {
            // [o, o, c] of [out, in, taps] (depthwise in PyTorch's layout: [o, 0, c]), a strided 1-D view
            long stride = inPerGroup == 1 ? taps : (long) (inPerGroup + 1) * taps;
            diagonal = viewAs(gradView, (long) out * inPerGroup * taps)
                    .get(NDArrayIndex.interval(centre, stride, (long) out * inPerGroup * taps));
            diagonalValues = diagonal.dup();
        }
        INDArray before = kernel.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, centre));
        INDArray after = kernel.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(centre + 1, taps));
        INDArray tap = kernel.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.point(centre));
        Nd4j.exec(new BroadcastMulOp(before, f.everyTap, before, 0));
        Nd4j.exec(new BroadcastMulOp(after, f.everyTap, after, 0));
        Nd4j.exec(new BroadcastMulOp(tap, f.centre, tap, 0));
        if (diagonal != null) {
            diagonal.assign(diagonalValues.muli(f.diagonal));
        }
    }

    /** @return {@code a} viewed as {@code shape} in c order, sharing its memory */
    private INDArray viewAs(INDArray a, long... shape) {
        if (Arrays.equals(a.shape(), shape)) {
            return a;
        }
        INDArray v = a.reshape('c', shape);
        if (v.data().address() != a.data().address() || v.offset() != a.offset()) {
            throw new IllegalStateException("block " + scales.block() + ": cannot view the gradient of shape "
                    + Arrays.toString(a.shape()) + " (order " + a.ordering() + ", strides " + Arrays.toString(a.stride())
                    + ") as " + Arrays.toString(shape) + " without copying it");
        }
        return v;
    }

    private Factors factorsFor(INDArray gradView) {
        Factors f = factors;
        if (f == null || f.type != gradView.dataType()) {
            long expected = scales.kernelLength();
            if (gradView.length() != expected) {
                int k = scales.kernel();
                String shape = scales.depthwise() ? "[" + k + ", " + k + ", " + scales.outChannels() + ", 1]"
                        : "[" + scales.outChannels() + ", " + scales.inChannelsPerGroup() + ", " + k + ", " + k + "]";
                throw new IllegalStateException("block " + scales.block() + ": Grad Mult is " + shape + " ("
                        + expected + " values), but the parameter it is attached to has shape "
                        + Arrays.toString(gradView.shape()));
            }
            f = new Factors(scales, form, gradView.dataType());
            factors = f;
        }
        return f;
    }

    /** @return the INDArrays this hook keeps between updates (empty before its first use) */
    INDArray[] retainedArrays() {
        Factors f = factors;
        return f == null ? new INDArray[0] : Arrays.stream(new INDArray[]{f.everyTap, f.centre, f.diagonal})
                .filter(Objects::nonNull).toArray(INDArray[]::new);
    }

    /**
     * The per-output-channel factors in one data type: {@code everyTap = s_k^p}; {@code centre = s_k^p + s1^p} (or
     * {@code s_k^p + 1} for a depthwise identity block), {@code null} where every tap, the centre included, takes
     * {@code everyTap}; {@code diagonal = centre + 1} for a groups-1 identity block, else {@code null}. Each sum is formed in the data
     * type, as {@link GradMult#create} forms the multiplier's entries.
     */
    private static final class Factors {
        final DataType type;
        final INDArray everyTap;
        final INDArray centre;
        final INDArray diagonal;

        Factors(BlockScales s, GradMult.Form form, DataType type) {
            this.type = type;
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                everyTap = vector(GradMult.powered(s.scaleConv(), form), type);
                INDArray c = s.hasConv1x1() ? everyTap.add(vector(GradMult.powered(s.scale1x1(), form), type)) : null;
                if (s.hasIdentity() && s.depthwise()) {
                    centre = (c == null ? everyTap : c).add(1.0);
                    diagonal = null;
                } else if (s.hasIdentity()) {
                    centre = c == null ? everyTap : c;
                    diagonal = centre.add(1.0);
                } else {
                    centre = c;
                    diagonal = null;
                }
            }
        }

        private static INDArray vector(double[] values, DataType type) {
            return Nd4j.create(values, new long[]{values.length}, DataType.DOUBLE).castTo(type);
        }
    }

    /** @return 0: the multiplier changes the update, not the loss */
    @Override
    public double score(INDArray param, int iteration, int epoch) {
        return 0.0;
    }

    @Override
    public Regularization clone() {
        return new GradMultHook(scales, form, step);
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
        return scales.equals(that.scales) && form == that.form && step == that.step;
    }

    @Override
    public int hashCode() {
        return Objects.hash(scales, form, step);
    }

    @Override
    public String toString() {
        return "GradMultHook{" + scales.block() + ", " + form + ", " + step + "}";
    }
}
