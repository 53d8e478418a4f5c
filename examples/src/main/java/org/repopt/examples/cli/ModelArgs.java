package org.repopt.examples.cli;

import org.repopt.data.ImageDataset;
import org.repopt.gr.ScalesFile;
import org.repopt.model.Variant;
import org.repopt.model.VggSpec;
import org.repopt.train.ModelFamily;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

/** Which model a command builds: {@code --model}, {@code --variant}, {@code --scales}. */
final class ModelArgs {

    /** The prefix naming released scales on the command line. */
    static final String RELEASED = "released:";
    /** The command line's name of each model family. */
    private static final Map<ModelFamily, String> NAMES = new EnumMap<>(Map.of(ModelFamily.REPOPT_VGG, "repopt-vgg",
            ModelFamily.VGG, "vgg", ModelFamily.REPVGG, "repvgg", ModelFamily.HS, "hs"));

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
        return family(model);
    }

    /**
     * @param family a model family
     * @return its command-line name, e.g. {@code repopt-vgg}
     */
    static String name(ModelFamily family) {
        return NAMES.get(family);
    }

    /**
     * @param name a command-line name
     * @return the family
     * @throws IllegalArgumentException naming the known families
     */
    static ModelFamily family(String name) {
        for (Map.Entry<ModelFamily, String> e : NAMES.entrySet()) {
            if (e.getValue().equals(name.toLowerCase(Locale.ROOT))) {
                return e.getKey();
            }
        }
        throw new IllegalArgumentException("unknown model '" + name + "'; known: " + String.join(", ",
                NAMES.values()));
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

    /** Adds this command line's model flags to the checks of a resume of {@code run}. */
    void requireSameAs(ResumeFlags flags, RunInfo run) {
        flags.same("--model", run.model(), model).same("--variant", run.variant(), variant);
        if (scales != null) {
            flags.same("--scales", run.scales(), normalized(scales));
        }
    }

    /**
     * @return the scales the family needs, or {@code null} for families without scales
     * @throws IOException when a scales file cannot be read
     */
    ScalesFile scalesOrNull() throws IOException {
        String source = scalesSource();
        if (source == null) {
            return null;
        }
        if (source.startsWith(RELEASED)) {
            return ScalesFile.released(source.substring(RELEASED.length()));
        }
        try {
            return ScalesFile.read(Path.of(source));
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("--scales " + scales + ": no such file; expected a scales file written "
                    + "by ./repopt search, or released:B1 (B2, L1, L2)", e);
        }
    }

    /**
     * @return where the family's scales come from: {@code released:V} or the absolute path of a file; {@code null}
     * for families without scales
     * @throws IllegalArgumentException where the family and {@code --scales} do not go together
     */
    String scalesSource() {
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
            return RELEASED + variant.toUpperCase(Locale.ROOT);
        }
        return normalized(scales);
    }

    /** @return {@code --scales} as a run records it: {@code released:V} upper-cased, a file as an absolute path */
    private static String normalized(String scales) {
        return scales.startsWith(RELEASED) ? RELEASED + scales.substring(RELEASED.length()).toUpperCase(Locale.ROOT)
                : Path.of(scales).toAbsolutePath().normalize().toString();
    }
}
