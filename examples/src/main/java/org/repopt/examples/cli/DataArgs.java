package org.repopt.examples.cli;

import org.repopt.data.DataOptions;
import org.repopt.data.Datasets;
import org.repopt.data.ImageDataset;
import org.repopt.data.Subset;
import org.repopt.train.Recipe;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/** Which data set a command reads: {@code --dataset}, {@code --data-dir}, {@code --image-size}, {@code --subset}. */
final class DataArgs {

    @Option(names = "--dataset", defaultValue = "fashion-mnist", paramLabel = "NAME",
            description = "fashion-mnist (default, from the Debian package dataset-fashion-mnist), cifar10, cifar100 "
                    + "(binary format, in --data-dir) or folder (one sub-folder per class under DIR/train and DIR/val).")
    String dataset;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "Where the data set lives (default for fashion-mnist: /usr/share/datasets/fashion-mnist).")
    Path dataDir;

    @Option(names = "--image-size", defaultValue = "224", paramLabel = "PIXELS",
            description = "Network input size for --dataset folder (default: ${DEFAULT-VALUE}).")
    int imageSize = 224;

    @Option(names = "--subset", paramLabel = "N",
            description = "Train on the first N training examples only (the test split stays whole).")
    Integer subset;

    /**
     * @param dataDir the Fashion-MNIST folder, or {@code null} for the default
     * @return the options of the whole Fashion-MNIST data set
     */
    static DataArgs fashionMnist(Path dataDir) {
        DataArgs d = new DataArgs();
        d.dataset = "fashion-mnist";
        d.dataDir = dataDir;
        return d;
    }

    /** @return the paper's or the project's recipe for this data set */
    Recipe recipe() {
        switch (name()) {
            case "fashion-mnist":
                return Recipe.FASHION_MNIST;
            case "cifar10":
            case "cifar100":
                return Recipe.CIFAR;
            default:
                return Recipe.IMAGENET;
        }
    }

    private String name() {
        String n = dataset.toLowerCase(Locale.ROOT);
        switch (n) {
            case "fashion-mnist":
            case "cifar10":
            case "cifar100":
            case "folder":
                return n;
            default:
                throw new IllegalArgumentException("unknown --dataset '" + dataset
                        + "'; known: fashion-mnist, cifar10, cifar100, folder");
        }
    }

    /**
     * @param cropPadding zero padding of the random crop of small images (0: none)
     * @return the opened data set
     * @throws IOException when its files cannot be read
     */
    ImageDataset open(int cropPadding) throws IOException {
        ImageDataset data;
        switch (name()) {
            case "fashion-mnist":
                data = Datasets.fashionMnist(dataDir);
                break;
            case "cifar10":
                data = Datasets.cifar10(requireDir());
                break;
            case "cifar100":
                data = Datasets.cifar100(requireDir());
                break;
            default:
                data = Datasets.imageFolder(requireDir(), imageSize);
        }
        DataOptions options = data.options().withPadding(cropPadding);
        if (subset != null) {
            options = options.withSubset(Subset.first(subset));
        }
        return data.withOptions(options);
    }

    /** Adds this command line's data flags to the checks of a resume of {@code run}. */
    void requireSameAs(ResumeFlags flags, RunInfo run) {
        flags.same("--dataset", run.dataset(), dataset).same("--image-size", run.imageSize(), imageSize)
                .same("--subset", run.subset(), subset);
    }

    private Path requireDir() {
        if (dataDir == null) {
            throw new IllegalArgumentException("--dataset " + dataset + " needs --data-dir: nothing is downloaded");
        }
        return dataDir;
    }
}
