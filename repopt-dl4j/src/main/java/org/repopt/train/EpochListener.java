package org.repopt.train;

import org.deeplearning4j.nn.graph.ComputationGraph;

import java.nio.file.Path;

/**
 * Called by the {@link Trainer} after each epoch, once that epoch's checkpoint is safely on disk. An exception
 * thrown here stops the run; the checkpoint just written stays, so {@link Trainer#resume} continues from it.
 */
@FunctionalInterface
public interface EpochListener {

    /**
     * @param result     the epoch just finished
     * @param net        the network being trained (read it, do not change it)
     * @param checkpoint the checkpoint holding the network after this epoch
     */
    void epochDone(EpochResult result, ComputationGraph net, Path checkpoint);
}
