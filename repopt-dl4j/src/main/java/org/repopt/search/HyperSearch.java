package org.repopt.search;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.repopt.data.ImageDataset;
import org.repopt.gr.RepOptimizer;
import org.repopt.gr.ScalesFile;
import org.repopt.gr.TorchSgd;
import org.repopt.model.CslaVgg;
import org.repopt.model.VggSpec;
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
 * Hyper-Search (Ding et al., ICLR 2023, section 3.3; docs/METHOD.md#hyper-search): trains the Hyper-Search model
 * ({@link CslaVgg}, every CSLA scale trainable) of the target architecture on a search data set with SGD,
 * Nesterov momentum and L2 weight decay on the kernels, the identity scales and the linear weight (not on the branch
 * scales {@code s3}, {@code s1}, nor BatchNorm: the reference code's rule, docs/METHOD.md#hyper-search-recipe), then exports the trained scales
 * as a scales file ({@value #SCALES_FILE} in the run's output folder) that {@code RepOptVgg} takes as constants.
 *
 * <p>The architecture is adapted to the search data's input shape and class count; block names, channels and
 * strides stay those of the target, so the file fits the target model.
 */
public final class HyperSearch {

    /** Where a finished search writes its scales, inside the run's output folder. */
    public static final String SCALES_FILE = "scales.json";
    /** The paper's search weight decay: its training weight decay. */
    public static final double DEFAULT_WEIGHT_DECAY = RepOptimizer.DEFAULT_WEIGHT_DECAY;

    private static final Logger LOG = LoggerFactory.getLogger(HyperSearch.class);

    private final VggSpec target;
    private final double momentum;
    private final double weightDecay;

    /**
     * @param target      the architecture whose scales are searched
     * @param momentum    Nesterov momentum in {@code (0, 1)} (paper: 0.9)
     * @param weightDecay L2 weight decay, {@code >= 0} (paper: 4e-5)
     */
    public HyperSearch(VggSpec target, double momentum, double weightDecay) {
        this.target = Objects.requireNonNull(target, "target");
        requireRecipe(momentum, weightDecay);
        this.momentum = momentum;
        this.weightDecay = weightDecay;
    }

    /** Checks a search's SGD recipe (every family's search uses the same one). */
    static void requireRecipe(double momentum, double weightDecay) {
        if (!(momentum > 0 && momentum < 1)) {
            throw new IllegalArgumentException("momentum must be in (0, 1), got " + momentum);
        }
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("weightDecay must be finite and >= 0, got " + weightDecay);
        }
    }

    /** @param target the architecture whose scales are searched, with the paper's momentum and weight decay */
    public HyperSearch(VggSpec target) {
        this(target, TorchSgd.DEFAULT_MOMENTUM, DEFAULT_WEIGHT_DECAY);
    }

    /**
     * @param data the search data set
     * @return the Hyper-Search model for the target architecture at the data's input shape and class count
     */
    public CslaVgg modelFor(ImageDataset data) {
        return CslaVgg.builder(target.withInput(data.channels(), data.height(), data.width())
                .withClasses(data.numClasses())).dataType(data.options().dataType()).build();
    }

    /**
     * Runs a fresh search in the trainer's output folder ({@link RunFolder#startNew}).
     *
     * @param data    the search data set
     * @param trainer the training run (epochs, batch, learning-rate schedule, output folder)
     * @return the searched scales, also written to {@value #SCALES_FILE} in the output folder
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
     * @return the searched scales, also written to {@value #SCALES_FILE} in the output folder
     * @throws IOException when checkpoints or the scales cannot be written
     */
    public SearchResult run(ImageDataset data, Trainer trainer, RunFolder folder) throws IOException {
        CslaVgg model = modelFor(data);
        ComputationGraph net = RepOptimizer.baselineSgd().momentum(momentum).weightDecay(weightDecay)
                .applyTo(model.conf());
        return export(model, data, trainer.train(net, data, folder), folder);
    }

    /**
     * Continues an interrupted search from its last checkpoint ({@link RunFolder#resume}).
     *
     * @param data    the search data set the run started on
     * @param trainer the same training configuration
     * @return the searched scales, also written to {@value #SCALES_FILE}
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
     * @return the searched scales, also written to {@value #SCALES_FILE}
     * @throws IOException when the checkpoint cannot be read or the scales cannot be written
     */
    public SearchResult resume(ImageDataset data, Trainer trainer, RunFolder folder) throws IOException {
        return export(modelFor(data), data, trainer.resume(data, folder), folder);
    }

    private SearchResult export(CslaVgg model, ImageDataset data, TrainResult training, RunFolder folder)
            throws IOException {
        String source = String.format(Locale.ROOT, "Hyper-Search with repopt-dl4j on %s (%d training examples), "
                        + "%d epochs, HS model top-1 %.4f; scales are per output channel, blocks in forward order",
                data.name(), data.trainExamples(), training.epochs(), training.finalTest().top1());
        ScalesFile scales = model.exportScales(training.network(), source);
        Path file = folder.dir().resolve(SCALES_FILE);
        scales.write(file);
        LOG.info("searched scales of {} written to {}", scales.model(), file);
        return new SearchResult(scales, file, training);
    }
}
