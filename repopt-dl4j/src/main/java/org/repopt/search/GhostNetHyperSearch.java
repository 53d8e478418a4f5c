package org.repopt.search;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.repopt.data.ImageDataset;
import org.repopt.gr.RepOptimizer;
import org.repopt.gr.ScalesFile;
import org.repopt.model.GhostNetSpec;
import org.repopt.model.RepOptGhostNet;
import org.repopt.train.RunFolder;
import org.repopt.train.TrainResult;
import org.repopt.train.Trainer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * Hyper-Search of RepOpt-GhostNet (docs/METHOD.md): trains the family's Hyper-Search model
 * ({@link RepOptGhostNet.Builder#search()}: every ghost module's cheap and fusion scales trainable, starting at
 * {@code sqrt(2 / (num_stage_modules + 1))} and 1) on a search data set with the same SGD recipe as
 * {@link HyperSearch}, then exports the trained scales as a scales file ({@code GhostNetScales}'s form)
 * ({@value HyperSearch#SCALES_FILE} in the run's folder) that the target takes with the RepOptimizer.
 *
 * <p>The architecture is adapted to the search data's input shape and class count; module names and channels stay
 * those of the width, so the file fits the target at any input.
 */
public final class GhostNetHyperSearch {

    private static final Logger LOG = LoggerFactory.getLogger(GhostNetHyperSearch.class);

    private final GhostNetSpec target;
    private final double momentum;
    private final double weightDecay;

    /**
     * @param target      the architecture whose scales are searched (its width; the input shape and classes come
     *                    from the data)
     * @param momentum    Nesterov momentum in {@code (0, 1)}
     * @param weightDecay L2 weight decay, {@code >= 0}
     */
    public GhostNetHyperSearch(GhostNetSpec target, double momentum, double weightDecay) {
        this.target = Objects.requireNonNull(target, "target");
        HyperSearch.requireRecipe(momentum, weightDecay);
        this.momentum = momentum;
        this.weightDecay = weightDecay;
    }

    /**
     * @param data the search data set
     * @return the Hyper-Search model for the target width at the data's input shape and class count
     */
    public RepOptGhostNet modelFor(ImageDataset data) {
        return RepOptGhostNet.builder(target.withInput(data.channels(), data.height(), data.width())
                .withClasses(data.numClasses())).search().dataType(data.options().dataType()).build();
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
        RepOptGhostNet model = modelFor(data);
        ComputationGraph net = RepOptimizer.baselineSgd().momentum(momentum).weightDecay(weightDecay)
                .applyTo(model.conf());
        return export(model, data, trainer.train(net, data, folder), folder);
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

    private SearchResult export(RepOptGhostNet model, ImageDataset data, TrainResult training, RunFolder folder)
            throws IOException {
        String source = String.format(Locale.ROOT, "Hyper-Search with repopt-dl4j on %s (%d training examples), "
                        + "%d epochs, %s top-1 %.4f; one entry per ghost module in forward order, scales per channel",
                data.name(), data.trainExamples(), training.epochs(), model.displayName(),
                training.finalTest().top1());
        ScalesFile scales = model.exportScales(training.network(), source);
        Path file = folder.dir().resolve(HyperSearch.SCALES_FILE);
        scales.write(file);
        LOG.info("searched scales of {} written to {}", scales.model(), file);
        return new SearchResult(scales, file, training);
    }
}
