package org.repopt.examples.cli;

import org.repopt.data.ImageDataset;
import org.repopt.gr.ScalesFile;
import org.repopt.model.Variant;
import org.repopt.model.VggSpec;
import org.repopt.train.ModelFamily;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/** Which model a command builds: {@code --model}, {@code --variant}, {@code --scales}. */
final class ModelArgs {

    /** The prefix naming released scales on the command line. */
    static final String RELEASED = "released:";

    @Option(names = "--model", defaultValue = "repopt-vgg", paramLabel = "FAMILY",
            description = "repopt-vgg (default), repvgg, vgg (the same plain VGG with ordinary SGD) or hs.")
    String model;

    @Option(names = "--variant", defaultValue = "small", paramLabel = "NAME",
            description = "small (default, the Fashion-MNIST-size net), B1, B2, L1 or L2; adapted to the data set's "
                    + "input shape and class count.")
    String variant;

    @Option(names = "--scales", paramLabel = "FILE|released:V",
            description = "Scales for repopt-vgg: a Hyper-Search result (./repopt search) or released:B1 (B2, L1, L2). "
                    + "Default for B1..L2: the released scales of that variant.")
    String scales;

    /** @return the family */
    ModelFamily family() {
        return ModelFamily.parse(model);
    }

    /**
     * @param data the data set the model trains on
     * @return the variant at the data set's input shape and class count
     */
    VggSpec spec(ImageDataset data) {
        return spec(variant).withInput(data.channels(), data.height(), data.width()).withClasses(data.numClasses());
    }

    /**
     * @param name small, B1, B2, L1 or L2
     * @return its spec at its own input shape
     */
    static VggSpec spec(String name) {
        return "small".equals(name.toLowerCase(Locale.ROOT)) ? VggSpec.small() : VggSpec.of(Variant.parse(name));
    }

    /**
     * @return the scales the family needs, or {@code null} for families without scales
     * @throws IOException when a scales file cannot be read
     */
    ScalesFile scalesOrNull() throws IOException {
        if (!family().needsScales()) {
            if (scales != null) {
                throw new IllegalArgumentException("--scales applies to --model repopt-vgg only, not " + model);
            }
            return null;
        }
        if (scales == null) {
            if ("small".equals(variant.toLowerCase(Locale.ROOT))) {
                throw new IllegalArgumentException("--model repopt-vgg --variant small needs --scales FILE: run "
                        + "./repopt search first (no scales were released for this variant)");
            }
            return ScalesFile.released(variant);
        }
        return scales.startsWith(RELEASED) ? ScalesFile.released(scales.substring(RELEASED.length()))
                : ScalesFile.read(Path.of(scales));
    }
}
