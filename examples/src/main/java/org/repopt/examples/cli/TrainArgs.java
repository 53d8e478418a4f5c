package org.repopt.examples.cli;

import org.repopt.gr.TorchSgd;
import org.repopt.train.Recipe;
import org.repopt.train.TrainConfig;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The training run's options; any left out come from the data set's {@link Recipe}. */
final class TrainArgs {

    @Option(names = "--epochs", paramLabel = "N", description = "Epochs (default: the data set's recipe).")
    Integer epochs;

    @Option(names = "--batch", paramLabel = "N", description = "Batch size (default: the data set's recipe).")
    Integer batch;

    @Option(names = "--lr", paramLabel = "LR", description = "Base learning rate of the cosine schedule (default: recipe).")
    Double lr;

    @Option(names = "--warmup-epochs", paramLabel = "N", description = "Linear warm-up epochs (default: recipe).")
    Integer warmupEpochs;

    @Option(names = "--label-smoothing", paramLabel = "E", description = "Label smoothing (default: recipe).")
    Double labelSmoothing;

    @Option(names = "--momentum", defaultValue = "0.9", paramLabel = "M",
            description = "Nesterov momentum (default: ${DEFAULT-VALUE}).")
    double momentum = TorchSgd.DEFAULT_MOMENTUM;

    @Option(names = "--wd", paramLabel = "WD", description = "L2 weight decay of kernels and linear weights "
            + "(default: recipe).")
    Double weightDecay;

    @Option(names = "--crop-padding", paramLabel = "PIXELS",
            description = "Zero padding of the random crop of small images, 0 for none (default: recipe).")
    Integer cropPadding;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S",
            description = "Seed of initialization, shuffling and augmentation (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", paramLabel = "DIR", description = "Output folder: checkpoints, metrics.jsonl, results.")
    Path out;

    @Option(names = "--resume", description = "Continue the run in --out from its last checkpoint.")
    boolean resume;

    @Option(names = "--no-progress", description = "No progress bar (also off when the output is not a terminal; "
            + "the log lines remain).")
    boolean noProgress;

    /**
     * @param recipe     the data set's recipe
     * @param defaultOut the output folder when {@code --out} is absent
     * @return the training configuration
     */
    TrainConfig config(Recipe recipe, Path defaultOut) {
        TrainConfig.Builder b = recipe.config(out != null ? out : defaultOut).seed(seed).progress(progress());
        if (epochs != null) {
            b.epochs(epochs);
        }
        if (batch != null) {
            b.batchSize(batch);
        }
        if (lr != null) {
            b.learningRate(lr);
        }
        if (warmupEpochs != null) {
            b.warmupEpochs(warmupEpochs);
        }
        if (labelSmoothing != null) {
            b.labelSmoothing(labelSmoothing);
        }
        return b.build();
    }

    /** @return whether to draw the progress bar: not with {@code --no-progress}, nor when the output is no terminal */
    boolean progress() {
        return !noProgress && System.console() != null;
    }

    /**
     * Adds this command line's training flags to the checks of a resume of {@code run}, whose checkpoint was
     * trained under {@code saved}.
     */
    void requireSameAs(ResumeFlags flags, RunInfo run, TrainConfig saved) {
        flags.same("--momentum", run.momentum(), momentum).same("--wd", run.weightDecay(), weightDecay)
                .same("--crop-padding", run.cropPadding(), cropPadding).same("--seed", saved.seed(), seed)
                .same("--epochs", saved.epochs(), epochs).same("--batch", saved.batchSize(), batch)
                .same("--lr", saved.learningRate(), lr).same("--warmup-epochs", saved.warmupEpochs(), warmupEpochs)
                .same("--label-smoothing", saved.labelSmoothing(), labelSmoothing);
    }

    /** @return the weight decay, from the option or the recipe */
    double weightDecay(Recipe recipe) {
        return weightDecay != null ? weightDecay : recipe.weightDecay();
    }

    /** @return the crop padding, from the option or the recipe */
    int cropPadding(Recipe recipe) {
        return cropPadding != null ? cropPadding : recipe.cropPadding();
    }
}
