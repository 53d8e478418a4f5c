package org.repopt.parallel;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.deeplearning4j.parallelism.factory.TrainerContext;
import org.deeplearning4j.parallelism.trainer.DefaultTrainer;
import org.deeplearning4j.parallelism.trainer.Trainer;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A ParallelWrapper worker that starts from the network as it was when the worker was created, not as it is when
 * the worker's thread gets round to copying it.
 *
 * <p>Why: in DL4J's AVERAGING mode worker 0 trains the caller's network itself, and each other worker copies that
 * network (configuration, parameters, updater state) on its own thread once the thread runs. Nothing orders the
 * copy before worker 0's first step, so a worker may start from parameters worker 0 has already updated, with an
 * iteration count one ahead (the learning-rate schedule moves too); the first average is then not the average of
 * the workers' steps from one starting point. This worker takes a snapshot when it is created, on the thread that
 * calls {@code fit} and before any batch is handed out, and installs it in its copy before its first step.
 */
final class SnapshotTrainer extends DefaultTrainer {

    private final INDArray params;
    private final INDArray updaterState;
    private final int iterations;
    private final int epochs;

    private SnapshotTrainer(ComputationGraph root, String uuid, int threadId, ParallelWrapper wrapper,
                            WorkspaceMode mode, int averagingFrequency) {
        this.originalModel = root;
        this.replicatedModel = root;
        this.threadId = threadId;
        this.parallelWrapper = wrapper;
        this.workspaceMode = mode;
        this.averagingFrequency = averagingFrequency;
        this.uuid = uuid + "_thread_" + threadId;
        setupIfNeccessary();
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            this.params = root.params().dup();
            INDArray state = root.getUpdater().getStateViewArray();
            this.updaterState = state == null ? null : state.dup();
        }
        this.iterations = root.getConfiguration().getIterationCount();
        this.epochs = root.getConfiguration().getEpochCount();
        setName("repopt ParallelWrapper worker " + threadId);
        setDaemon(true);
    }

    /** Runs on the worker's thread after its copy of the network is built, before its first step. */
    @Override
    protected void postInit() {
        super.postInit();
        if (threadId == 0) {
            return; // worker 0 trains the caller's network, which has not moved before this point on this thread
        }
        ComputationGraph replica = (ComputationGraph) replicatedModel;
        replica.setParams(params);
        if (updaterState != null) {
            replica.getUpdater().setStateViewArray(updaterState);
        }
        replica.getConfiguration().setIterationCount(iterations);
        replica.getConfiguration().setEpochCount(epochs);
    }

    /** Creates {@link SnapshotTrainer}s: ParallelWrapper's AVERAGING mode without its start-up race. */
    static final class Context implements TrainerContext {

        @Override
        public void init(Model model, Object... args) {
        }

        @Override
        public Trainer create(String uuid, int threadId, Model model, int rootDevice, boolean useMDS,
                              ParallelWrapper wrapper, WorkspaceMode mode, int averagingFrequency) {
            if (!(model instanceof ComputationGraph) || useMDS) {
                throw new IllegalArgumentException("these workers train a ComputationGraph on DataSets, got "
                        + model.getClass().getSimpleName() + (useMDS ? " on MultiDataSets" : ""));
            }
            return new SnapshotTrainer((ComputationGraph) model, uuid, threadId, wrapper, mode, averagingFrequency);
        }

        @Override
        public void finalizeRound(Model originalModel, Model... models) {
        }

        @Override
        public void finalizeTraining(Model originalModel, Model... models) {
        }
    }
}
