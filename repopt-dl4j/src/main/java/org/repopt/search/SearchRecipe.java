package org.repopt.search;

import org.repopt.data.ImageDataset;
import org.repopt.gr.Hyperparameters;
import org.repopt.gr.RepOptimizer;
import org.repopt.gr.ScalesFile;
import org.repopt.train.RunFolder;
import org.repopt.train.TrainResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * What every Hyper-Search shares ({@link HyperSearch}, {@link GhostNetHyperSearch}, {@link GraphHyperSearch}): the SGD
 * recipe it trains with (Nesterov momentum, L2 weight decay by the reference code's rule,
 * docs/METHOD.md#hyper-search-recipe), the provenance its scales file records, and where a finished search leaves
 * the file ({@value HyperSearch#SCALES_FILE} in the run's folder).
 *
 * @param momentum    Nesterov momentum in {@code (0, 1)}
 * @param weightDecay L2 weight decay, finite and {@code >= 0}
 */
record SearchRecipe(double momentum, double weightDecay) {

    private static final Logger LOG = LoggerFactory.getLogger(SearchRecipe.class);

    /** Checks the recipe: momentum first, then weight decay, each naming its value. */
    SearchRecipe {
        if (!(momentum > 0 && momentum < 1)) {
            throw new IllegalArgumentException("momentum must be in (0, 1), got " + momentum);
        }
        Hyperparameters.weightDecay(weightDecay);
    }

    /** @return the recipe as a RepOptimizer builder without Grad Mult (a baseline: the search trains the CSLA model) */
    RepOptimizer.Builder sgd() {
        return RepOptimizer.baselineSgd().momentum(momentum).weightDecay(weightDecay);
    }

    /**
     * The {@code source} a searched scales file records.
     *
     * @param network  the user's network searched, or {@code null} for a model family's
     * @param data     the search data
     * @param training the finished training
     * @param model    what the trained model is called in the text, e.g. {@code HS model}
     * @param layout   how the file's entries are laid out
     * @return e.g. {@code Hyper-Search with repopt-dl4j on fashion-mnist (60000 training examples), 1 epochs, HS model
     *         top-1 0.8000; scales are per output channel, blocks in forward order}
     */
    static String provenance(String network, ImageDataset data, TrainResult training, String model, String layout) {
        return String.format(Locale.ROOT, "Hyper-Search with repopt-dl4j%s on %s (%d training examples), %d epochs, "
                        + "%s top-1 %.4f; %s", network == null ? "" : " of " + network, data.name(),
                data.trainExamples(), training.epochs(), model, training.finalTest().top1(), layout);
    }

    /**
     * Writes a finished search's scales into its run folder.
     *
     * @param scales   the searched scales
     * @param training the training that searched them
     * @param folder   the run's folder
     * @return the search's result
     * @throws IOException when the file cannot be written
     */
    static SearchResult save(ScalesFile scales, TrainResult training, RunFolder folder) throws IOException {
        Path file = folder.dir().resolve(HyperSearch.SCALES_FILE);
        scales.write(file);
        LOG.info("searched scales of {} written to {}", scales.model(), file);
        return new SearchResult(scales, file, training);
    }
}
