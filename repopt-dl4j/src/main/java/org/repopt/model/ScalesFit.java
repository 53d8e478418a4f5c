package org.repopt.model;

import org.repopt.gr.BlockScales;

import java.util.List;

/** The one check that scales were made for a model: entry by entry in forward order, every family alike. */
final class ScalesFit {

    private ScalesFit() {
    }

    /**
     * What the scales entry of one re-parameterized conv must say.
     *
     * @param block    its name
     * @param in       the conv's input channels
     * @param out      the conv's output channels
     * @param stride   the conv's stride
     * @param describe how messages print it
     */
    record Slot(String block, int in, int out, int stride, String describe) {
        boolean fits(BlockScales s) {
            return block.equals(s.block()) && in == s.inChannels() && out == s.outChannels() && stride == s.stride();
        }
    }

    /**
     * @param scales    the scales, in forward order
     * @param slots     the model's re-parameterized convs, in forward order
     * @param unit      what an entry is called in messages ({@code block}, {@code module})
     * @param modelName the model in messages, e.g. {@code RepOpt-VGG-B1}
     * @throws IllegalArgumentException naming the first entry that does not fit (name, channels, stride), or the
     *                                  first unmatched one where the counts differ
     */
    static void require(List<BlockScales> scales, List<Slot> slots, String unit, String modelName) {
        int n = Math.min(scales.size(), slots.size());
        for (int i = 0; i < n; i++) {
            Slot slot = slots.get(i);
            BlockScales s = scales.get(i);
            if (!slot.fits(s)) {
                throw new IllegalArgumentException("scales do not fit " + modelName + ": " + unit + " " + i + " is "
                        + slot.describe() + " in " + modelName + ", but " + s.block() + " (" + s.inChannels() + "->"
                        + s.outChannels() + ", stride " + s.stride() + ") in the scales");
            }
        }
        if (scales.size() != slots.size()) {
            String first = scales.size() > n ? scales.get(n).block() : slots.get(n).block();
            throw new IllegalArgumentException("scales do not fit " + modelName + ": " + scales.size() + " " + unit
                    + "s in the scales, " + slots.size() + " in the model; first unmatched " + unit + ": " + first);
        }
    }
}
