package org.repopt.gr;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Objects;

/**
 * Listed after a {@link GradMultHook} attached with {@link GradMultHook#sgdInTorchSgdStep}: checks, after the
 * parameter's updater, that the updater took the Grad Mult the hook left to it ({@link DeferredGradMults}). It
 * computes nothing. Where the updater is not {@link TorchSgd} or {@link TorchAdam} (say a fine-tuning configuration
 * replaced it with DL4J's {@code Adam}), the gradient went through the updater without its Grad Mult: the check
 * throws, and since DL4J changes the parameters only after every block's update, the failed update changed no
 * parameter (the updater state of the blocks before it has advanced).
 */
public final class GradMultStepCheck implements Regularization {

    private static final long serialVersionUID = 1L;

    @JsonProperty("block")
    private final String block;

    /** @param block the block whose hook this checks (for the message) */
    @JsonCreator
    public GradMultStepCheck(@JsonProperty("block") String block) {
        this.block = Objects.requireNonNull(block, "block");
    }

    /** @return the block whose hook this checks */
    public String block() {
        return block;
    }

    @Override
    public ApplyStep applyStep() {
        return ApplyStep.POST_UPDATER;
    }

    /** @throws IllegalStateException where the hook left its Grad Mult to the updater and the updater left it too */
    @Override
    public void apply(INDArray param, INDArray gradView, double lr, int iteration, int epoch) {
        String untaken = DeferredGradMults.untaken(gradView);
        if (untaken != null) {
            throw new IllegalStateException("block " + untaken + ": its GradMultHook left the Grad Mult to TorchSgd's "
                    + "step (GradMultHook.sgdInTorchSgdStep), but this parameter's updater is not TorchSgd or TorchAdam"
                    + " and did not apply it; this update changed no parameter. Attach GradMultHook.sgdWithL2 for "
                    + "other updaters (RepOptimizer does so when given one)");
        }
    }

    @Override
    public double score(INDArray param, int iteration, int epoch) {
        return 0.0;
    }

    @Override
    public Regularization clone() {
        return new GradMultStepCheck(block);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GradMultStepCheck && block.equals(((GradMultStepCheck) o).block);
    }

    @Override
    public int hashCode() {
        return block.hashCode();
    }

    @Override
    public String toString() {
        return "GradMultStepCheck{" + block + "}";
    }
}
