package org.repopt.examples.cli;

import org.repopt.data.ImageDataset;
import org.repopt.gr.ScalesFile;
import org.repopt.model.GhostNetScales;
import org.repopt.model.GhostNetSpec;
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
            ModelFamily.VGG, "vgg", ModelFamily.REPVGG, "repvgg", ModelFamily.HS, "hs",
            ModelFamily.REPOPT_GHOSTNET, "repopt-ghostnet", ModelFamily.GHOSTNET_HS, "ghostnet-hs"));
    /** The variant of VGG families when {@code --variant} is absent. */
    static final String DEFAULT_VGG_VARIANT = "small";
    /** The variant of RepOpt-GhostNet families when {@code --variant} is absent: the released scales' width. */
    static final String DEFAULT_GHOSTNET_VARIANT = GhostNetSpec.of(GhostNetSpec.RELEASED_WIDTH).name();

    @Option(names = "--model", defaultValue = "repopt-vgg", paramLabel = "FAMILY",
            description = "repopt-vgg (default), repvgg, vgg (the same plain VGG with ordinary SGD), hs, "
                    + "repopt-ghostnet (RepOpt-GhostNet with the RepOptimizer) or ghostnet-hs (its Hyper-Search "
                    + "model).")
    String model;

    @Option(names = "--variant", paramLabel = "NAME",
            description = "small (default, the Fashion-MNIST-size net), B1, B2, L1 or L2; for repopt-ghostnet and "
                    + "ghostnet-hs a width multiplier: 0.5x (default), 1.0x, ... Adapted to the data set's input "
                    + "shape and class count.")
    String variant;

    @Option(names = "--scales", paramLabel = "FILE|released:V",
            description = "Scales for repopt-vgg or repopt-ghostnet: a Hyper-Search result (./repopt search) or "
                    + "released:B1 (B2, L1, L2; for repopt-ghostnet released:0.5x). Default for B1..L2 and "
                    + "repopt-ghostnet 0.5x: the released scales of that variant.")
    String scales;

    /** @return the family */
    ModelFamily family() {
        return family(model);
    }

    /** @return {@code --variant}, or the family's default ({@value #DEFAULT_VGG_VARIANT}, or 0.5x for GhostNet) */
    String variant() {
        return variant != null ? variant : defaultVariant(family());
    }

    /**
     * @param family a model family
     * @return its variant when {@code --variant} is absent
     */
    static String defaultVariant(ModelFamily family) {
        return family.ghostNet() ? DEFAULT_GHOSTNET_VARIANT : DEFAULT_VGG_VARIANT;
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
        return spec(variant()).withInput(data.channels(), data.height(), data.width()).withClasses(data.numClasses());
    }

    /**
     * @param data the data set a RepOpt-GhostNet family trains on
     * @return the width at the data set's input shape and class count
     */
    GhostNetSpec ghostSpec(ImageDataset data) {
        return GhostNetSpec.parse(variant()).withInput(data.channels(), data.height(), data.width())
                .withClasses(data.numClasses());
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
        flags.same("--model", run.model(), model).same("--variant", run.variant(), variant());
        if (scales != null) {
            flags.same("--scales", run.scales(), normalized(family(), scales));
        }
    }

    /**
     * @return the scales a VGG family needs, or {@code null} for families without scales
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
     * @return the scales RepOpt-GhostNet needs, or {@code null} for its Hyper-Search model
     * @throws IOException when a scales file cannot be read
     */
    ScalesFile ghostScalesOrNull() throws IOException {
        String source = scalesSource();
        if (source == null) {
            return null;
        }
        if (source.startsWith(RELEASED)) {
            return GhostNetScales.released(source.substring(RELEASED.length()));
        }
        try {
            return ScalesFile.read(Path.of(source));
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("--scales " + scales + ": no such file; expected a scales file written "
                    + "by ./repopt search --model repopt-ghostnet, or released:0.5x", e);
        }
    }

    /**
     * @return where the family's scales come from: {@code released:V} or the absolute path of a file; {@code null}
     * for families without scales
     * @throws IllegalArgumentException where the family and {@code --scales} do not go together
     */
    String scalesSource() {
        ModelFamily family = family();
        if (!family.needsScales()) {
            if (scales != null) {
                throw new IllegalArgumentException("--scales applies to --model repopt-vgg and repopt-ghostnet only, "
                        + "not " + model);
            }
            return null;
        }
        if (scales == null) {
            if (family.ghostNet()) {
                String width = GhostNetSpec.parse(variant()).name();
                if (!GhostNetScales.RELEASED.contains(width)) {
                    throw new IllegalArgumentException("--model repopt-ghostnet --variant " + variant() + " needs "
                            + "--scales FILE: run ./repopt search --model repopt-ghostnet --variant " + variant()
                            + " first (scales were released for " + GhostNetScales.RELEASED + " only)");
                }
                return RELEASED + width;
            }
            if (DEFAULT_VGG_VARIANT.equals(variant().toLowerCase(Locale.ROOT))) {
                throw new IllegalArgumentException("--model repopt-vgg --variant small needs --scales FILE: run "
                        + "./repopt search first (no scales were released for this variant)");
            }
            return RELEASED + variant().toUpperCase(Locale.ROOT);
        }
        return normalized(family, scales);
    }

    /**
     * @return {@code --scales} as a run records it: {@code released:V} upper-cased ({@code released:0.5x} for
     * GhostNet widths), a file as an absolute path
     */
    private static String normalized(ModelFamily family, String scales) {
        if (!scales.startsWith(RELEASED)) {
            return Path.of(scales).toAbsolutePath().normalize().toString();
        }
        String v = scales.substring(RELEASED.length());
        return RELEASED + (family.ghostNet() ? GhostNetSpec.parse(v).name() : v.toUpperCase(Locale.ROOT));
    }
}
