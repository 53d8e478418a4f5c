package org.repopt.gr;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The hand-over from a {@link GradMultHook} attached with {@link GradMultHook#sgdInTorchSgdStep} to the updater step
 * that follows it. In {@code UpdaterBlock.update} DL4J runs, in one thread, the {@code BEFORE_UPDATER}
 * regularizations of every parameter of a block, then the block's updater on the block's gradient, then the
 * {@code POST_UPDATER} ones; and it changes no parameter before every block is done. So a hook can leave its pass to
 * the updater of its own block: it records its kernel's rows here, {@link TorchSgd} takes them and computes the Grad
 * Mult inside its step ({@link TorchAdam} runs them first), and a {@link GradMultStepCheck} after the updater fails
 * the update if they are still here, i.e. the updater was one that does not take them.
 *
 * <p>Per thread: DL4J updates a network in the thread that trains it (ParallelWrapper and Spark workers each train
 * their own copy in their own thread).
 */
final class DeferredGradMults {

    private static final ThreadLocal<List<GradMultHook.Rows>> PENDING = ThreadLocal.withInitial(ArrayList::new);

    private DeferredGradMults() {
    }

    /** Leaves {@code rows}' Grad Mult to the updater that runs next in this thread. */
    static void defer(GradMultHook.Rows rows) {
        PENDING.get().add(rows);
    }

    /** @return the kernels left to the caller, in the order their hooks ran (most often none); none are left after */
    static List<GradMultHook.Rows> take() {
        List<GradMultHook.Rows> pending = PENDING.get();
        if (pending.isEmpty()) {
            return Collections.emptyList();
        }
        List<GradMultHook.Rows> taken = new ArrayList<>(pending);
        pending.clear();
        return taken;
    }

    /** Runs the Grad Mult of every kernel left here, each on its own (for an updater that does not fold it in). */
    static void runAll() {
        for (GradMultHook.Rows rows : take()) {
            rows.multiplyInPlace();
        }
    }

    /**
     * Takes back what a hook left here for the gradient {@code gradView}, if anything: nothing should be left once
     * the updater has run. Everything else left is dropped too (the update fails).
     *
     * @return the block whose Grad Mult was not taken, or null where nothing was left for {@code gradView}
     */
    static String untaken(INDArray gradView) {
        List<GradMultHook.Rows> pending = PENDING.get();
        for (GradMultHook.Rows rows : pending) {
            if (rows.gradient.data().address() == gradView.data().address()
                    && rows.gradient.offset() == gradView.offset()) {
                pending.clear();
                return rows.block();
            }
        }
        return null;
    }
}
