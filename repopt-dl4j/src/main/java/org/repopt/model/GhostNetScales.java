package org.repopt.model;

import org.repopt.gr.BlockScales;
import org.repopt.gr.ScalesFile;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Locale;

/**
 * RepOpt-GhostNet's scales as a {@link ScalesFile}: one depthwise 3x3 entry per ghost module, in forward order,
 * {@code scale_conv} the cheap scale, {@code scale_identity} the fusion scale, {@code scale_1x1} null
 * ({@link RepOptGhostNet#moduleScales}); no {@code num_blocks} (the modules are not a VGG chain), the width as
 * {@code width_multiplier}, the model {@code RepOptGhostNet-<width>}. The released 0.5x file is shipped as a resource
 * next to the RepOpt-VGG ones ({@code org/repopt/gr/released/}, provenance in its README) and verified on every load:
 * its check figures by {@link ScalesFile} (the SGD Grad Mult's sum within 1e-6 relative, entries to float precision),
 * its modules against the reference architecture of its width.
 */
public final class GhostNetScales {

    /** The widths whose Hyper-Search scales were released with the reference code (MIT License). */
    public static final List<String> RELEASED = List.of(GhostNetSpec.of(GhostNetSpec.RELEASED_WIDTH).name());
    /** The family's name in a scales file's {@code model}. */
    public static final String MODEL_PREFIX = "RepOptGhostNet-";

    private static final String RELEASED_RESOURCE = "released/RepOptGhostNet-%s-scales.json";

    private GhostNetScales() {
    }

    /**
     * Loads the scales the reference code released for a width.
     *
     * @param width one of {@link #RELEASED}: {@code 0.5x} (also {@code 0.5})
     * @return the scales, verified against their check figures and the architecture of that width
     * @throws IllegalArgumentException for a width without released scales
     */
    public static ScalesFile released(String width) {
        GhostNetSpec spec = GhostNetSpec.parse(width);
        if (!RELEASED.contains(spec.name())) {
            throw new IllegalArgumentException("no released RepOpt-GhostNet scales for width '" + width
                    + "'; released: " + RELEASED);
        }
        String resource = String.format(Locale.ROOT, RELEASED_RESOURCE, spec.name());
        try (InputStream in = ScalesFile.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("resource " + resource + " missing from the repopt-dl4j jar");
            }
            ScalesFile scales = ScalesFile.read(in, "released:" + spec.name());
            requireFits(scales, spec);
            return scales;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read resource " + resource, e);
        }
    }

    /**
     * @param spec    the architecture the scales were made for (its width; any input shape and class count)
     * @param source  where the scales come from, or {@code null}
     * @param modules every ghost module's scales, in forward order ({@link RepOptGhostNet#moduleScales})
     * @return them as a scales file of the width's model
     * @throws IllegalArgumentException naming the first module that does not fit
     */
    public static ScalesFile of(GhostNetSpec spec, String source, List<BlockScales> modules) {
        ScalesFile scales = new ScalesFile(MODEL_PREFIX + spec.name(), null, new double[]{spec.width()}, source,
                modules);
        requireFits(scales, spec);
        return scales;
    }

    /**
     * Checks that a scales file holds RepOpt-GhostNet scales for an architecture: its modules' names and channels in
     * forward order ({@link GhostNetSpec#requireMatches}), each a depthwise 3x3 conv without 1x1 branch.
     *
     * @param scales a scales file
     * @param spec   the architecture
     * @throws IllegalArgumentException naming the scales' model, the first module that does not fit and why
     */
    public static void requireFits(ScalesFile scales, GhostNetSpec spec) {
        String model = MODEL_PREFIX + spec.name();
        if (scales.numBlocks() != null) {
            throw new IllegalArgumentException("scales of " + scales.model() + " do not fit " + model + ": they are a "
                    + "VGG's (num_blocks " + java.util.Arrays.toString(scales.numBlocks()) + "), not one entry per "
                    + "ghost module");
        }
        spec.requireMatches(scales.blocks(), model);
        for (BlockScales s : scales.blocks()) {
            requireCheapConv(s, model);
        }
    }

    /**
     * @param s     one module's scales
     * @param model the model in messages
     * @throws IllegalArgumentException unless they are a depthwise 3x3 conv's without 1x1 branch
     */
    static void requireCheapConv(BlockScales s, String model) {
        if (!s.depthwise() || s.kernel() != GhostModuleSpec.CHEAP_KERNEL || s.hasConv1x1() || !s.hasIdentity()) {
            throw new IllegalArgumentException("module " + s.block() + " of " + model + ": expected the scales of a "
                    + "depthwise 3x3 conv with a fusion (identity) scale and no 1x1 branch "
                    + "(RepOptGhostNet.moduleScales), got " + s);
        }
    }
}
