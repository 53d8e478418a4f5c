package org.repopt.check;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * What an {@link EquivalenceCheck} measured: per re-parameterized conv the largest relative gap between the plain
 * network's kernel (trained with the RepOptimizer) and its CSLA twin's equivalent kernel (trained with plain SGD), over
 * every step.
 *
 * @param input     the random input the two networks trained on, e.g. {@code 1x28x28}
 * @param steps     training steps
 * @param tolerance the largest gap that passes
 * @param layers    one entry per re-parameterized conv, in the scales' order
 */
public record EquivalenceReport(String input, int steps, double tolerance, List<LayerGap> layers) {

    /**
     * One re-parameterized conv's gaps.
     *
     * @param layer             the conv layer's name
     * @param branches          its CSLA block's branches, e.g. {@code 3x3 + 1x1 + identity}
     * @param gap               the largest gap over every step: {@code max |W_twin - W_plain| / max(1, max |W_twin|)}
     * @param gapWithoutReinit  the same, the plain network started at the twin's raw kernel instead of the Rule of
     *                          Initialization's ({@code NaN} when not measured)
     * @param gapWithoutGradMult the same, the plain network trained without Grad Mult ({@code NaN} when not measured)
     */
    public record LayerGap(String layer, String branches, double gap, double gapWithoutReinit,
                           double gapWithoutGradMult) {

        /** Validates the fields. */
        public LayerGap {
            Objects.requireNonNull(layer, "layer");
            Objects.requireNonNull(branches, "branches");
        }
    }

    /** Validates the fields. */
    public EquivalenceReport {
        Objects.requireNonNull(input, "input");
        layers = List.copyOf(layers);
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("a report needs at least one layer");
        }
    }

    /** @return the largest gap of any layer ({@code NaN} if any gap is {@code NaN}) */
    public double maxRelativeGap() {
        double worst = 0;
        for (LayerGap l : layers) {
            if (Double.isNaN(l.gap())) {
                return Double.NaN;
            }
            worst = Math.max(worst, l.gap());
        }
        return worst;
    }

    /** @return whether every layer's gap is at most {@link #tolerance} */
    public boolean passed() {
        return layers.stream().allMatch(l -> l.gap() <= tolerance);
    }

    /** @return whether the ablations were measured */
    public boolean ablated() {
        return layers.stream().anyMatch(l -> !Double.isNaN(l.gapWithoutReinit()));
    }

    /**
     * @return a table, one line per layer, then {@code max_relative_gap=<x>} as the last line
     */
    public String toText() {
        int width = Math.max("GR layer".length(), layers.stream().mapToInt(l -> l.layer().length()).max().orElse(0));
        int branchWidth = Math.max("branches".length(),
                layers.stream().mapToInt(l -> l.branches().length()).max().orElse(0));
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "CSLA twin (plain SGD) vs plain network (RepOptimizer), double precision, "
                + "%d steps on random %s input; gap = max |W_twin - W_plain| / max(1, max |W_twin|), pass <= %.0e%n",
                steps, input, tolerance));
        String head = String.format(Locale.ROOT, "%-" + width + "s  %-" + branchWidth + "s  %-10s", "GR layer",
                "branches", "gap");
        sb.append(head).append(ablated() ? "  no re-init  no Grad Mult" : "").append('\n');
        for (LayerGap l : layers) {
            sb.append(String.format(Locale.ROOT, "%-" + width + "s  %-" + branchWidth + "s  %-10.3e", l.layer(),
                    l.branches(), l.gap()));
            if (ablated()) {
                sb.append(String.format(Locale.ROOT, "  %-10.3e  %-10.3e", l.gapWithoutReinit(), l.gapWithoutGradMult()));
            }
            sb.append(l.gap() <= tolerance ? "" : "  FAIL").append('\n');
        }
        sb.append(String.format(Locale.ROOT, "max_relative_gap=%.3e", maxRelativeGap()));
        return sb.toString();
    }
}
