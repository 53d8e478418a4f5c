package org.repopt.model;

import org.repopt.gr.BlockScales;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The architecture of RepOpt-GhostNet as data: the reference code's table (function {@code repoptghostnet()} of
 * {@code repoptimizer/repoptghostnet_model.py}, DingXiaoH/RepOptimizers) at a width multiplier, for an input shape
 * and class count. Target, Hyper-Search and CSLA networks are built from one spec ({@link RepOptGhostNet}), and a
 * scales file is checked module by module against it.
 *
 * <p>Network: stem conv3x3 stride 2 + BN + ReLU to {@code make_divisible(16 w, 4)} channels; the bottlenecks of
 * the table, each row {@code (k, t, c, se, s)} giving hidden {@code make_divisible(t w, 4)} and output
 * {@code make_divisible(c w, 4)} channels; a 1x1 conv + BN + ReLU to {@code make_divisible(2 w t_last, 4)}; global
 * average pooling; a 1x1 conv with bias + ReLU to {@value #HEAD_CHANNELS}; dropout; a linear classifier. The
 * reference's input has 3 channels and 224x224 pixels; any shape works here (the maps shrink by 32 to at least 1x1).
 */
public final class GhostNetSpec extends ClassifierSpec {

    /** Columns of a the table row. */
    private static final int K = 0;
    private static final int T = 1;
    private static final int C = 2;
    private static final int SE = 3;
    private static final int S = 4;

    /**
     * The reference's {@code cfgs}: stages of rows {@code {k, t (hidden), c (out), SE ratio, stride}}, SE enabled.
     */
    private static final double[][][] TABLE = {
            {{3, 8, 16, 0, 1}},
            {{3, 24, 24, 0, 2}},
            {{3, 36, 24, 0, 1}},
            {{5, 36, 40, 0.25, 2}},
            {{5, 60, 40, 0.25, 1}},
            {{3, 120, 80, 0, 2}},
            {{3, 100, 80, 0, 1}, {3, 120, 80, 0, 1}, {3, 120, 80, 0, 1}, {3, 240, 112, 0.25, 1},
                    {3, 336, 112, 0.25, 1}},
            {{5, 336, 160, 0.25, 2}},
            {{5, 480, 160, 0, 1}, {5, 480, 160, 0.25, 1}, {5, 480, 160, 0, 1}, {5, 480, 160, 0.25, 1}},
    };
    /** Stem channels before the width multiplier. */
    public static final int STEM_CHANNELS = 16;
    /** The reference's name of the 1x1 conv + BN + ReLU after the last bottleneck (the table's tenth stage). */
    public static final String FINAL_BLOCK = "blocks.9.0";
    /** Channels of the classifier's 1x1 conv head (not scaled by the width). */
    public static final int HEAD_CHANNELS = 1280;
    /** Every channel count is a multiple of this ({@code _make_divisible(.., 4)}). */
    public static final int DIVISOR = 4;
    /** The reference's dropout before the classifier. */
    public static final double DEFAULT_DROPOUT = 0.2;
    /** The width whose Hyper-Search scales were released with the reference code. */
    public static final double RELEASED_WIDTH = 0.5;

    private static final Pattern WIDTH_NAME = Pattern.compile("(\\d+(?:\\.\\d+)?)x?");

    private final double width;
    private final double dropout;
    private final int stemChannels;
    private final int finalChannels;
    private final List<GhostBottleneckSpec> bottlenecks;
    private final List<GhostModuleSpec> modules;

    private GhostNetSpec(double width, int inputChannels, int inputHeight, int inputWidth, int numClasses,
                         double dropout) {
        super("RepOpt-GhostNet " + format(requireWidth(width)), inputChannels, inputHeight, inputWidth, numClasses);
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("RepOpt-GhostNet " + format(width) + ": dropout must be in [0, 1), got "
                    + dropout);
        }
        this.width = width;
        this.dropout = dropout;
        this.stemChannels = makeDivisible(STEM_CHANNELS * width, DIVISOR);
        List<GhostBottleneckSpec> b = new ArrayList<>();
        int in = stemChannels;
        int stageBlocks = 0;
        double lastHidden = 0;
        for (int stage = 0; stage < TABLE.length; stage++) {
            for (int i = 0; i < TABLE[stage].length; i++) {
                double[] row = TABLE[stage][i];
                int out = makeDivisible(row[C] * width, DIVISOR);
                int mid = makeDivisible(row[T] * width, DIVISOR);
                int stride = (int) row[S];
                // the reference counts shape-preserving bottlenecks across its table's sub-lists, not per sub-list
                stageBlocks = stride == 1 && in == out ? stageBlocks + 1 : 1;
                int se = row[SE] > 0 ? makeDivisible(mid * row[SE], DIVISOR) : 0;
                b.add(new GhostBottleneckSpec("blocks." + stage + "." + i, in, mid, out, (int) row[K], stride, se,
                        stageBlocks));
                in = out;
                lastHidden = row[T];
            }
        }
        this.bottlenecks = Collections.unmodifiableList(b);
        this.finalChannels = makeDivisible(lastHidden * width * 2, DIVISOR);
        List<GhostModuleSpec> m = new ArrayList<>();
        for (GhostBottleneckSpec bottleneck : bottlenecks) {
            m.add(bottleneck.ghost1());
            m.add(bottleneck.ghost2());
        }
        this.modules = Collections.unmodifiableList(m);
    }

    private static double requireWidth(double width) {
        if (!(width > 0) || Double.isInfinite(width)) {
            throw new IllegalArgumentException("RepOpt-GhostNet width multiplier must be finite and > 0, got " + width);
        }
        return width;
    }

    /**
     * The reference's {@code _make_divisible} (from TensorFlow's MobileNet): the nearest multiple of {@code divisor},
     * at least {@code divisor}, raised by one step where rounding lost more than 10%.
     *
     * @param v       a channel count before rounding
     * @param divisor the multiple
     * @return the rounded count
     */
    public static int makeDivisible(double v, int divisor) {
        int rounded = Math.max(divisor, (int) (v + divisor / 2.0) / divisor * divisor);
        return rounded < 0.9 * v ? rounded + divisor : rounded;
    }

    /**
     * The reference architecture at a width multiplier: 3x224x224 input, 1000 classes, dropout 0.2.
     *
     * @param width the width multiplier, e.g. 0.5 (the released scales' width)
     * @return its spec
     */
    public static GhostNetSpec of(double width) {
        return new GhostNetSpec(width, 3, 224, 224, 1000, DEFAULT_DROPOUT);
    }

    /**
     * @param name a width with or without the {@code x}: {@code 0.5x}, {@code 1.0x}, {@code 1.3}
     * @return the reference architecture at that width ({@link #of})
     * @throws IllegalArgumentException naming the accepted form
     */
    public static GhostNetSpec parse(String name) {
        Matcher m = WIDTH_NAME.matcher(name.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("unknown RepOpt-GhostNet variant '" + name
                    + "': expected a width multiplier such as 0.5x, 1.0x or 1.3x");
        }
        return of(Double.parseDouble(m.group(1)));
    }

    /**
     * @param c channels
     * @param h height
     * @param w width
     * @return this architecture for another input shape
     */
    @Override
    public GhostNetSpec withInput(int c, int h, int w) {
        return new GhostNetSpec(width, c, h, w, numClasses(), dropout);
    }

    /**
     * @param classes class count
     * @return this architecture with another classifier size
     */
    @Override
    public GhostNetSpec withClasses(int classes) {
        return new GhostNetSpec(width, inputChannels(), inputHeight(), inputWidth(), classes, dropout);
    }

    /**
     * @param p dropout probability before the classifier, in {@code [0, 1)} (0: none)
     * @return this architecture with another dropout
     */
    public GhostNetSpec withDropout(double p) {
        return new GhostNetSpec(width, inputChannels(), inputHeight(), inputWidth(), numClasses(), p);
    }

    /** @return e.g. {@code 0.5x} */
    @Override
    public String name() {
        return format(width);
    }

    private static String format(double width) {
        String s = BigDecimal.valueOf(width).stripTrailingZeros().toPlainString();
        return (s.contains(".") ? s : s + ".0") + "x";
    }

    /** @return the width multiplier */
    public double width() {
        return width;
    }

    /** @return dropout probability before the classifier */
    public double dropout() {
        return dropout;
    }

    /** @return channels of the stem */
    public int stemChannels() {
        return stemChannels;
    }

    /** @return channels of the 1x1 conv after the last bottleneck */
    public int finalChannels() {
        return finalChannels;
    }

    /** @return every bottleneck, in forward order */
    public List<GhostBottleneckSpec> bottlenecks() {
        return bottlenecks;
    }

    /** @return every ghost module ({@code ghost1}, {@code ghost2} of each bottleneck), in forward order */
    public List<GhostModuleSpec> modules() {
        return modules;
    }

    /**
     * Checks that scales were made for this architecture, module by module in forward order: the name and the
     * channels of each module's cheap depthwise conv, stride 1.
     *
     * @param scales    every module's scales, in forward order
     * @param modelName the model in messages, e.g. {@code RepOptGhostNet-0.5x}
     * @throws IllegalArgumentException naming the first module that does not match, or the first unmatched one
     */
    public void requireMatches(List<BlockScales> scales, String modelName) {
        ScalesFit.require(scales, modules.stream().map(m -> new ScalesFit.Slot(m.name(), m.channels(), m.channels(), 1,
                m.describe())).toList(), "module", modelName);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof GhostNetSpec)) {
            return false;
        }
        GhostNetSpec s = (GhostNetSpec) o;
        return Double.compare(width, s.width) == 0 && sameInputAndClasses(s) && Double.compare(dropout, s.dropout) == 0;
    }

    @Override
    public int hashCode() {
        return Objects.hash(width, inputChannels(), inputHeight(), inputWidth(), numClasses(), dropout);
    }

    @Override
    public String toString() {
        return "GhostNetSpec{" + name() + ", input " + inputShape() + ", " + numClasses() + " classes, dropout "
                + dropout + "}";
    }
}
