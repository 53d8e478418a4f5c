package org.repopt.search;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.repopt.data.ImageDataset;
import org.repopt.gr.ScalesFile;
import org.repopt.model.ClassifierSpec;
import org.repopt.train.RunFolder;
import org.repopt.train.TrainResult;
import org.repopt.train.Trainer;

import java.io.IOException;
import java.util.Objects;

/**
 * What the model families' Hyper-Searches share ({@link HyperSearch}, {@link GhostNetHyperSearch}): a target
 * architecture and the {@link SearchRecipe}; a run trains the family's Hyper-Search model, adapted to the search
 * data, in a run folder, fresh or resumed, and writes its scales there.
 *
 * @param <S> the family's architecture
 * @param <M> the family's Hyper-Search model
 */
abstract class FamilyHyperSearch<S extends ClassifierSpec, M> {

    /** The architecture whose scales are searched. */
    final S target;
    private final SearchRecipe recipe;

    FamilyHyperSearch(S target, double momentum, double weightDecay) {
        this.target = Objects.requireNonNull(target, "target");
        this.recipe = new SearchRecipe(momentum, weightDecay);
    }

    /**
     * @param data the search data set
     * @return the Hyper-Search model for the target at the data's input shape and class count
     */
    public abstract M modelFor(ImageDataset data);

    /** @return the model's configuration */
    abstract ComputationGraphConfiguration conf(M model);

    /** @return the scales of a trained network of {@code model}, with the search's provenance */
    abstract ScalesFile exportScales(M model, ComputationGraph net, ImageDataset data, TrainResult training);

    /**
     * Runs a fresh search in the trainer's output folder ({@link RunFolder#startNew}).
     *
     * @param data    the search data set
     * @param trainer the training run (epochs, batch, learning-rate schedule, output folder)
     * @return the searched scales, also written to {@value HyperSearch#SCALES_FILE} in the output folder
     * @throws IOException when checkpoints or the scales cannot be written
     */
    public SearchResult run(ImageDataset data, Trainer trainer) throws IOException {
        try (RunFolder folder = RunFolder.startNew(trainer.config().outputDir())) {
            return run(data, trainer, folder);
        }
    }

    /**
     * Runs a fresh search in a folder the caller holds.
     *
     * @param data    the search data set
     * @param trainer the training run (epochs, batch, learning-rate schedule, output folder)
     * @param folder  the trainer's output folder, from {@link RunFolder#startNew}
     * @return the searched scales, also written to {@value HyperSearch#SCALES_FILE} in the output folder
     * @throws IOException when checkpoints or the scales cannot be written
     */
    public SearchResult run(ImageDataset data, Trainer trainer, RunFolder folder) throws IOException {
        M model = modelFor(data);
        ComputationGraph net = recipe.sgd().applyTo(conf(model));
        return export(model, data, trainer.train(net, data, folder), folder);
    }

    /**
     * Continues an interrupted search from its last checkpoint ({@link RunFolder#resume}).
     *
     * @param data    the search data set the run started on
     * @param trainer the same training configuration
     * @return the searched scales, also written to {@value HyperSearch#SCALES_FILE}
     * @throws IOException when the checkpoint cannot be read or the scales cannot be written
     */
    public SearchResult resume(ImageDataset data, Trainer trainer) throws IOException {
        try (RunFolder folder = RunFolder.resume(trainer.config().outputDir())) {
            return resume(data, trainer, folder);
        }
    }

    /**
     * Continues an interrupted search in a folder the caller holds.
     *
     * @param data    the search data set the run started on
     * @param trainer the same training configuration
     * @param folder  the trainer's output folder, from {@link RunFolder#resume}
     * @return the searched scales, also written to {@value HyperSearch#SCALES_FILE}
     * @throws IOException when the checkpoint cannot be read or the scales cannot be written
     */
    public SearchResult resume(ImageDataset data, Trainer trainer, RunFolder folder) throws IOException {
        return export(modelFor(data), data, trainer.resume(data, folder), folder);
    }

    private SearchResult export(M model, ImageDataset data, TrainResult training, RunFolder folder)
            throws IOException {
        return SearchRecipe.save(exportScales(model, training.network(), data, training), training, folder);
    }
}
