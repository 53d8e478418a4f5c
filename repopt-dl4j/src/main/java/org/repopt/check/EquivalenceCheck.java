package org.repopt.check;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.repopt.backend.Nd4jRandom;
import org.repopt.gr.BlockScales;
import org.repopt.gr.Hyperparameters;
import org.repopt.gr.MultiLayerAsGraph;
import org.repopt.gr.NetworkConfigFile;
import org.repopt.gr.RepOptimizer;
import org.repopt.gr.ScalesFile;
import org.repopt.search.CslaTwin;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The equivalence check anyone can run on their own network (docs/METHOD.md#why-exact): the CSLA twin of the plain
 * graph ({@link CslaTwin}, the scales as constants) trained with plain Nesterov SGD and L2, next to the plain graph
 * trained with the RepOptimizer ({@code RepOptimizer.sgd(scales).mapByBlockName()}), both in double precision from
 * the same start (the plain kernels at the twin's equivalent kernels, every other parameter copied), on the same
 * random batches of the graph's input type. After every step each re-parameterized kernel of the plain network is
 * compared with the twin's equivalent kernel; the check passes when no gap exceeds {@link #TOLERANCE}.
 *
 * <pre>{@code
 * EquivalenceReport r = EquivalenceCheck.builder().steps(20).build().run(conf, ScalesFile.read(file));
 * System.out.println(r.toText());   // per GR layer, then max_relative_gap=<x>
 * }</pre>
 *
 * <p>With {@link Builder#ablate} it also runs the two broken variants, without the Rule of Initialization (the plain
 * network starts at the twin's raw kernels) and without Grad Mult, whose gaps show what the check detects.
 * Dropout is switched off on both sides (its random masks would differ). ND4J's random generator is re-seeded
 * ({@link Nd4jRandom}) before the twin is initialized, so a check is reproducible for its seed.
 */
public final class EquivalenceCheck {

    /** The largest relative gap that passes: double precision leaves ~1e-15 after 20 steps. */
    public static final double TOLERANCE = 1e-9;
    /** Steps by default. */
    public static final int DEFAULT_STEPS = 20;

    private final int steps;
    private final int batchSize;
    private final long seed;
    private final double learningRate;
    private final double momentum;
    private final double weightDecay;
    private final boolean ablate;
    private final InputType inputType;

    private EquivalenceCheck(Builder b) {
        this.steps = b.steps;
        this.batchSize = b.batchSize;
        this.seed = b.seed;
        this.learningRate = b.learningRate;
        this.momentum = b.momentum;
        this.weightDecay = b.weightDecay;
        this.ablate = b.ablate;
        this.inputType = b.inputType;
    }

    /** @return a builder with the defaults: 20 steps of batch 4, lr 0.05, momentum 0.9, weight decay 1e-3 */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * @param plain  the user's plain graph, built with input types
     * @param scales scales keyed by the graph's conv names (a Hyper-Search of this graph)
     * @return the report
     * @throws IllegalArgumentException naming the block and layer where the scales do not fit the graph
     */
    public EquivalenceReport run(ComputationGraphConfiguration plain, ScalesFile scales) {
        return run(plain, scales.blocks());
    }

    /**
     * @param plain  the user's plain graph, built with input types
     * @param scales one block per re-parameterized conv, named like the conv
     * @return the report
     * @throws IllegalArgumentException naming the block and layer where the scales do not fit the graph
     */
    public EquivalenceReport run(ComputationGraphConfiguration plain, List<BlockScales> scales) {
        return run(inDoubleWithoutDropout(Objects.requireNonNull(plain, "plain")), null, scales);
    }

    /**
     * @param plain  the user's network as read from its JSON file, either kind
     * @param scales scales keyed by its layer names
     * @return the report
     * @throws IllegalArgumentException naming the block and layer where the scales do not fit the network
     */
    public EquivalenceReport run(NetworkConfigFile plain, List<BlockScales> scales) {
        return plain.isMultiLayer() ? run(plain.multiLayer(), scales) : run(plain.graph(), scales);
    }

    /**
     * The check of a {@code MultiLayerConfiguration}: its CSLA twin is built on its chain graph
     * ({@link MultiLayerAsGraph}), the plain side is the {@code MultiLayerNetwork} that
     * {@code RepOptimizer.sgd(scales).mapByBlockName().applyTo(conf)} returns.
     *
     * @param plain  the user's network configuration, built with an input type
     * @param scales scales keyed by its layer names ({@link MultiLayerAsGraph#layerName})
     * @return the report
     * @throws IllegalArgumentException naming the block and layer where the scales do not fit the network
     */
    public EquivalenceReport run(MultiLayerConfiguration plain, ScalesFile scales) {
        return run(plain, scales.blocks());
    }

    /**
     * @param plain  the user's network configuration, built with an input type
     * @param scales one block per re-parameterized conv, named like the layer
     * @return the report
     * @throws IllegalArgumentException naming the block and layer where the scales do not fit the network
     */
    public EquivalenceReport run(MultiLayerConfiguration plain, List<BlockScales> scales) {
        MultiLayerConfiguration conf = Objects.requireNonNull(plain, "plain").clone();
        conf.setDataType(DataType.DOUBLE);
        ComputationGraphConfiguration graph = inDoubleWithoutDropout(MultiLayerAsGraph.toGraph(conf));
        return run(graph, MultiLayerAsGraph.toMultiLayer(graph, conf), scales);
    }

    private EquivalenceReport run(ComputationGraphConfiguration conf, MultiLayerConfiguration multiLayer,
                                  List<BlockScales> scales) {
        CslaTwin twin = CslaTwin.csla(conf, scales);
        NetworkInput input = inputType != null ? NetworkInput.of(conf, inputType) : NetworkInput.of(conf);
        Map<String, Double> gaps = trainSideBySide(twin, multiLayer, input, true, true);
        Map<String, Double> noReinit = ablate ? trainSideBySide(twin, multiLayer, input, false, true) : null;
        Map<String, Double> noGradMult = ablate ? trainSideBySide(twin, multiLayer, input, true, false) : null;
        List<EquivalenceReport.LayerGap> layers = new ArrayList<>();
        for (BlockScales b : twin.blocks()) {
            String c = b.block();
            layers.add(new EquivalenceReport.LayerGap(c, branches(b), gaps.get(c),
                    ablate ? noReinit.get(c) : Double.NaN, ablate ? noGradMult.get(c) : Double.NaN));
        }
        return new EquivalenceReport(input.describe(), steps, TOLERANCE, layers);
    }

    /** @return e.g. {@code 3x3 + 1x1 + identity} */
    static String branches(BlockScales b) {
        return b.kernel() + "x" + b.kernel() + (b.scale1x1() != null ? " + 1x1" : "") + (b.hasIdentity() ? " + identity" : "");
    }

    /** The plain side: a graph or a {@code MultiLayerNetwork}, its layers looked up by name. */
    private interface Plain {
        Layer layer(String name);

        Layer[] layers();

        void fit(DataSet ds);
    }

    /** Trains twin and plain network side by side; per conv the largest gap after any step. */
    private Map<String, Double> trainSideBySide(CslaTwin twin, MultiLayerConfiguration multiLayer, NetworkInput input,
                                                boolean reinit, boolean gradMult) {
        Nd4jRandom.reseed(seed);
        ComputationGraph csla = RepOptimizer.baselineSgd()
                .updater(new Nesterovs(learningRate, momentum)).weightDecay(weightDecay).applyTo(twin.conf());
        RepOptimizer.Builder opt = (gradMult ? RepOptimizer.sgd(twin.blocks()).mapByBlockName()
                : RepOptimizer.baselineSgd()).updater(new Nesterovs(learningRate, momentum))
                .weightDecay(weightDecay).fineTune();
        Plain plain;
        if (multiLayer == null) {
            ComputationGraph g = opt.applyTo(twin.plain());
            plain = new Plain() {
                public Layer layer(String name) {
                    return g.getLayer(name);
                }

                public Layer[] layers() {
                    return g.getLayers();
                }

                public void fit(DataSet ds) {
                    g.fit(ds);
                }
            };
        } else {
            MultiLayerNetwork m = opt.applyTo(multiLayer);
            plain = new Plain() {
                public Layer layer(String name) {
                    return m.getLayer(name);
                }

                public Layer[] layers() {
                    return m.getLayers();
                }

                public void fit(DataSet ds) {
                    m.fit(ds);
                }
            };
        }
        startFromTwin(plain, csla, twin, reinit);

        Map<String, Double> worst = new LinkedHashMap<>();
        twin.blocks().forEach(b -> worst.put(b.block(), 0.0));
        for (int step = 0; step < steps; step++) {
            DataSet ds = input.randomBatch(batchSize, seed * 1_000_003L + step, DataType.DOUBLE);
            csla.fit(ds);
            plain.fit(ds);
            Map<String, INDArray> equivalent = twin.equivalentKernels(csla);
            for (Map.Entry<String, INDArray> e : equivalent.entrySet()) {
                double gap = relativeGap(e.getValue(), plain.layer(e.getKey()).getParam("W"));
                worst.merge(e.getKey(), gap, (a, b) -> Double.isNaN(a) || Double.isNaN(b) ? Double.NaN : Math.max(a, b));
            }
        }
        return worst;
    }

    /** The same start: every parameter the two share by name, the kernels at the twin's equivalent (or raw) ones. */
    private static void startFromTwin(Plain plain, ComputationGraph csla, CslaTwin twin, boolean reinit) {
        for (Layer l : plain.layers()) {
            String name = l.conf().getLayer().getLayerName();
            Layer other = csla.getLayer(name);
            for (Map.Entry<String, INDArray> p : l.paramTable().entrySet()) {
                INDArray from = other == null ? null : other.paramTable().get(p.getKey());
                if (from == null || !Arrays.equals(from.shape(), p.getValue().shape())) {
                    throw new IllegalStateException("layer '" + name + "': parameter " + p.getKey()
                            + " has no counterpart of its shape in the twin");
                }
                p.getValue().assign(from);
            }
        }
        if (reinit) {
            twin.equivalentKernels(csla).forEach((c, w) -> plain.layer(c).getParam("W").assign(w));
        }
    }

    /**
     * @return {@code max |expected - actual| / max(1, max |expected|)}
     */
    public static double relativeGap(INDArray expected, INDArray actual) {
        double scale = Math.max(1.0, expected.amaxNumber().doubleValue());
        return expected.sub(actual).amaxNumber().doubleValue() / scale;
    }

    private static ComputationGraphConfiguration inDoubleWithoutDropout(ComputationGraphConfiguration plain) {
        ComputationGraphConfiguration c = plain.clone();
        c.setDataType(DataType.DOUBLE);
        for (GraphVertex v : c.getVertices().values()) {
            v.setDataType(DataType.DOUBLE);
            if (v instanceof LayerVertex) {
                org.deeplearning4j.nn.conf.layers.Layer l = ((LayerVertex) v).getLayerConf().getLayer();
                l.setIDropout(null);
                if (l instanceof BaseLayer) {
                    ((BaseLayer) l).setWeightNoise(null);
                }
            }
        }
        return c;
    }

    /** Options of an {@link EquivalenceCheck}. */
    public static final class Builder {
        private int steps = DEFAULT_STEPS;
        private int batchSize = 4;
        private long seed = 1;
        private double learningRate = 0.05;
        private double momentum = 0.9;
        private double weightDecay = 1e-3;
        private boolean ablate;
        private InputType inputType;

        private Builder() {
        }

        /** @param n training steps, {@code >= 1} (default 20) */
        public Builder steps(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("steps must be >= 1, got " + n);
            }
            this.steps = n;
            return this;
        }

        /** @param n examples per random batch, {@code >= 2} (BatchNorm needs two) (default 4) */
        public Builder batchSize(int n) {
            if (n < 2) {
                throw new IllegalArgumentException("batchSize must be >= 2 (BatchNorm), got " + n);
            }
            this.batchSize = n;
            return this;
        }

        /** @param s seed of the initialization and of the random batches (default 1) */
        public Builder seed(long s) {
            this.seed = s;
            return this;
        }

        /** @param lr constant learning rate of both networks, {@code > 0} (default 0.05) */
        public Builder learningRate(double lr) {
            this.learningRate = Hyperparameters.learningRate(lr);
            return this;
        }

        /** @param m Nesterov momentum in {@code [0, 1)} (default 0.9) */
        public Builder momentum(double m) {
            this.momentum = Hyperparameters.momentum(m);
            return this;
        }

        /** @param wd L2 weight decay, {@code >= 0} (default 1e-3: large enough that its order matters) */
        public Builder weightDecay(double wd) {
            Hyperparameters.weightDecay(wd);
            this.weightDecay = wd;
            return this;
        }

        /** Also measure the gaps without the Rule of Initialization and without Grad Mult. */
        public Builder ablate() {
            this.ablate = true;
            return this;
        }

        /** @param type the graph's input type, where it cannot be read from the configuration ({@link NetworkInput}) */
        public Builder inputType(InputType type) {
            this.inputType = Objects.requireNonNull(type, "type");
            return this;
        }

        /** @return the check */
        public EquivalenceCheck build() {
            return new EquivalenceCheck(this);
        }
    }
}
