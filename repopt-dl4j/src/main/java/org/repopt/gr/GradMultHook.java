package org.repopt.gr;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonIgnore;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Arrays;
import java.util.Objects;

/**
 * Multiplies one conv kernel's gradient by its fixed {@link GradMult}, inside DL4J's own updater pipeline.
 *
 * <p>Why a {@link Regularization}: it is the only per-parameter extension point DL4J calls on every update. In
 * {@code UpdaterBlock.update} the {@link ApplyStep#BEFORE_UPDATER BEFORE_UPDATER} entries of a parameter's list
 * run in list order, then the {@code IUpdater}, then the {@link ApplyStep#POST_UPDATER POST_UPDATER} entries.
 * Listed first, before {@code L2Regularization}, this hook gives the Rule of Iteration's order exactly:
 * {@code d = grad * M; d += wd * W; momentum step}. An {@code IUpdater} cannot do this: it runs after L2 and would
 * scale the decay term too. The AdamW form adds a second, {@code POST_UPDATER} instance that multiplies the
 * update by {@code M} again.
 *
 * <p>The hook stores the block's scales, not the multiplier, so it is part of the network configuration: it
 * survives {@code toJson()/fromJson()} and {@code ModelSerializer}. The multiplier is built on first use, outside
 * every workspace, in the gradient's data type, and cached.
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
    private transient volatile INDArray multiplier;

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

    /** @return the scales this hook derives its multiplier from */
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
        INDArray m = multiplierFor(gradView);
        // DL4J hands over the kernel's gradient either as [out, in, 3, 3] or as a flat view of the layer's
        // gradient, which stores the kernel in c order: either way, c-order indexing lines the two up.
        gradView.muli(gradView.rank() == m.rank() ? m : m.reshape('c', gradView.shape()));
    }

    private INDArray multiplierFor(INDArray gradView) {
        INDArray m = multiplier;
        if (m == null || m.dataType() != gradView.dataType()) {
            long expected = (long) scales.outChannels() * scales.inChannels() * GradMult.KERNEL * GradMult.KERNEL;
            if (gradView.length() != expected) {
                throw new IllegalStateException("block " + scales.block() + ": Grad Mult is [" + scales.outChannels()
                        + ", " + scales.inChannels() + ", 3, 3] (" + expected + " values), but the parameter it "
                        + "is attached to has shape " + Arrays.toString(gradView.shape()));
            }
            m = GradMult.create(scales, form, gradView.dataType());
            multiplier = m;
        }
        return m;
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
