package org.repopt.search;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.repopt.gr.BlockScales;
import org.repopt.gr.CslaBlockLayers;
import org.repopt.gr.GrSite;
import org.repopt.gr.GrSites;
import org.repopt.gr.ScaleAssignment;
import org.repopt.gr.ScalesFile;
import org.repopt.nn.ChannelScaleLayer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The multi-branch twin of a user's plain network (docs/METHOD.md#csla-block): every re-parameterized conv {@code c}
 * of the plain graph (a "GR site": a {@code k x k} conv feeding one BatchNorm) becomes the CSLA block
 * <pre>{@code bn( s3 * c(x) [+ s1 * conv1x1(x)] [+ sid * x] )}</pre>
 * with the 1x1 branch where the conv has groups 1 and the identity branch where {@code in == out} and stride 1;
 * everything else in the graph stays as the user wrote it, under the user's own layer names (the {@code k x k} conv
 * keeps its name, so the twin's parameters and the plain network's share names).
 * <ul>
 *   <li>{@link Mode#SEARCH}, the Hyper-Search model: every scale trainable, starting at the paper's values
 *       ({@link #initialScales}); weight decay on the identity scale only, as the reference code
 *       (docs/METHOD.md#hyper-search-recipe). Trained, its scales {@linkplain #exportScales exported} are a scales
 *       file keyed by the user's conv names, which {@code RepOptimizer.sgd(scales).mapByBlockName()} maps.</li>
 *   <li>{@link Mode#CSLA}: the branch scales constant at a scales file's values, the identity scale trainable and
 *       decayed. Trained with plain SGD, this is the network that the plain network trained with the RepOptimizer
 *       is equivalent to (docs/METHOD.md#why-exact); {@link #equivalentKernels} gives the kernels to compare.</li>
 * </ul>
 *
 * <p>Added vertices are named {@code gr.<conv>.<role>} ({@link #conv1x1}, {@link #scaleConv}, {@link #scale1x1},
 * {@link #scaleIdentity}, {@link #sum}): no {@code '_'} (DL4J's parameter-name separator), and a graph that already has
 * such a name is refused. The 1x1 conv is a copy of the user's conv (weight init, data format, updater) with a 1x1
 * kernel, padding 0 and no bias; a scale layer takes the conv's updater and regularization.
 *
 * <p>{@link org.repopt.model.CslaVgg} is the same block in the model family's own VGG, under the family's layer names;
 * both read a trained network through {@link CslaBlockLayers}.
 */
public final class CslaTwin {

    /** Which scales are trained. */
    public enum Mode {
        /** Every scale trainable: the Hyper-Search model. */
        SEARCH,
        /** Constant branch scales, trainable identity scale: the CSLA model. */
        CSLA
    }

    private static final String PREFIX = "gr.";

    private final ComputationGraphConfiguration plain;
    private final Mode mode;
    private final List<BlockScales> blocks;
    private final ComputationGraphConfiguration twin;

    private CslaTwin(ComputationGraphConfiguration plain, Mode mode, List<BlockScales> blocks) {
        this.plain = plain.clone();
        this.mode = mode;
        this.blocks = List.copyOf(blocks);
        // the same checks (and messages) as RepOptimizer.mapByBlockName(): every block names a GR conv that fits it
        ScaleAssignment.byBlockName(this.plain, this.blocks);
        this.twin = build();
    }

    /**
     * The Hyper-Search twin.
     *
     * @param plain  the user's plain graph, built with input types
     * @param blocks one block per re-parameterized conv, named like the conv, at the scales the search starts from
     *               (usually {@link #initialScales})
     * @return the twin
     * @throws IllegalArgumentException naming the block and layer where a block does not fit the graph
     */
    public static CslaTwin search(ComputationGraphConfiguration plain, List<BlockScales> blocks) {
        return new CslaTwin(Objects.requireNonNull(plain, "plain"), Mode.SEARCH, nonEmpty(blocks));
    }

    /**
     * The CSLA twin.
     *
     * @param plain  the user's plain graph, built with input types
     * @param scales constant scales, one block per re-parameterized conv, named like the conv
     * @return the twin
     * @throws IllegalArgumentException naming the block and layer where a block does not fit the graph
     */
    public static CslaTwin csla(ComputationGraphConfiguration plain, List<BlockScales> scales) {
        return new CslaTwin(Objects.requireNonNull(plain, "plain"), Mode.CSLA, nonEmpty(scales));
    }

    private static List<BlockScales> nonEmpty(List<BlockScales> blocks) {
        if (blocks == null || blocks.isEmpty()) {
            throw new IllegalArgumentException("no re-parameterized conv given: a twin needs at least one block");
        }
        return blocks;
    }

    /** @return search or CSLA */
    public Mode mode() {
        return mode;
    }

    /** @return the plain graph (a copy) */
    public ComputationGraphConfiguration plain() {
        return plain.clone();
    }

    /** @return the twin's configuration (a copy) */
    public ComputationGraphConfiguration conf() {
        return twin.clone();
    }

    /** @return the blocks the twin was built with (initial or constant scales), in the order given */
    public List<BlockScales> blocks() {
        return blocks;
    }

    /** @return the 1x1 branch's conv of the re-parameterized conv {@code conv} */
    public static String conv1x1(String conv) {
        return PREFIX + conv + ".conv1x1";
    }

    /** @return the scale layer of {@code conv}'s own ({@code k x k}) branch */
    public static String scaleConv(String conv) {
        return PREFIX + conv + ".scale-conv";
    }

    /** @return the scale layer of {@code conv}'s 1x1 branch */
    public static String scale1x1(String conv) {
        return PREFIX + conv + ".scale-1x1";
    }

    /** @return the scale layer of {@code conv}'s identity branch */
    public static String scaleIdentity(String conv) {
        return PREFIX + conv + ".scale-identity";
    }

    /** @return the vertex adding {@code conv}'s branches, the BatchNorm's new input */
    public static String sum(String conv) {
        return PREFIX + conv + ".sum";
    }

    /**
     * The scales a Hyper-Search starts from (docs/METHOD.md#hyper-search-init), for the sites in forward order:
     * {@code s3 = s1 = 1} for a site without identity branch (a stage's first block, the stem), {@code sqrt(2 / i)}
     * for the {@code i}-th site with identity branch after it (a stage's block {@code i}); {@code sid = 1}. A site gets
     * a 1x1 branch where it has groups 1, an identity branch where {@code in == out} and stride 1.
     *
     * @param sites GR sites in forward order ({@link GrSites#find})
     * @return one block per site, named like its conv, at the initial scales
     */
    public static List<BlockScales> initialScales(List<GrSite> sites) {
        List<BlockScales> out = new ArrayList<>();
        int indexInStage = 0;
        for (GrSite s : sites) {
            indexInStage = s.identityPossible() ? indexInStage + 1 : 0;
            double branch = indexInStage == 0 ? 1.0 : Math.sqrt(2.0 / indexInStage);
            int c = s.outChannels();
            out.add(new BlockScales(s.layer(), s.inChannels(), c, s.stride(), s.kernel(), s.groups(), filled(c, branch),
                    s.oneByOnePossible() ? filled(c, branch) : null, s.identityPossible() ? filled(c, 1.0) : null));
        }
        return out;
    }

    /**
     * Renames blocks to the convs that the RepOptimizer's default mapping gives them (the i-th block to the i-th 3x3
     * conv in forward order, validated as {@code ScaleAssignment.byForwardOrder}): for scales named otherwise, such as
     * the model families' files ({@code stage1.0} for the conv {@code stage1.0.conv3x3}).
     *
     * @param conf   a graph built with input types
     * @param blocks scales in forward order, any names
     * @return the same scales named like their convs, in forward order
     * @throws IllegalArgumentException naming the block and layer where a block does not fit its conv
     */
    public static List<BlockScales> keyedByForwardOrder(ComputationGraphConfiguration conf, List<BlockScales> blocks) {
        List<BlockScales> out = new ArrayList<>();
        ScaleAssignment.byForwardOrder(conf, blocks).byLayer().forEach((layer, b) -> out.add(b.renamed(layer)));
        return out;
    }

    private static double[] filled(int n, double v) {
        double[] a = new double[n];
        Arrays.fill(a, v);
        return a;
    }

    /**
     * Reads every block's current scales out of a twin network: the searched scales after a Hyper-Search.
     *
     * @param net a network built from {@link #conf()}
     * @return the blocks in the order given, named like the user's convs
     */
    public List<BlockScales> currentScales(ComputationGraph net) {
        List<BlockScales> out = new ArrayList<>();
        for (BlockScales b : blocks) {
            out.add(layersOf(b.block()).currentScales(net, b));
        }
        return out;
    }

    /**
     * The scales file of a trained twin (a Hyper-Search's result), keyed by the user's conv names.
     *
     * @param net    a network built from {@link #conf()}
     * @param model  what to call the network in the file
     * @param source provenance (data, epochs, ...), or {@code null}
     * @return the scales file
     */
    public ScalesFile exportScales(ComputationGraph net, String model, String source) {
        List<BlockScales> current = currentScales(net);
        return new ScalesFile(model, null, null, source, current);
    }

    /**
     * The kernel each re-parameterized conv of the plain network is equivalent to in a twin network's current state:
     * the Rule of Initialization applied to its branches (docs/METHOD.md#rule-of-initialization).
     *
     * @param net a network built from {@link #conf()}
     * @return conv name to its equivalent kernel, in DL4J's layout of the plain conv's kernel
     */
    public Map<String, INDArray> equivalentKernels(ComputationGraph net) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (BlockScales b : currentScales(net)) {
            out.put(b.block(), layersOf(b.block()).equivalentKernel(net, b));
        }
        return out;
    }

    /** The block's layers in a twin network: the user's conv and the branches added under {@code gr.<conv>.}. */
    private static CslaBlockLayers layersOf(String conv) {
        return new CslaBlockLayers(conv, conv1x1(conv), scaleConv(conv), scale1x1(conv), scaleIdentity(conv),
                "not built from this twin's configuration");
    }

    private ComputationGraphConfiguration build() {
        ComputationGraphConfiguration g = plain.clone();
        Map<String, GraphVertex> vertices = g.getVertices();
        Map<String, List<String>> inputs = g.getVertexInputs();
        for (BlockScales b : blocks) {
            String c = b.block();
            for (String added : List.of(conv1x1(c), scaleConv(c), scale1x1(c), scaleIdentity(c), sum(c))) {
                if (vertices.containsKey(added) || g.getNetworkInputs().contains(added)) {
                    throw new IllegalArgumentException("layer '" + added + "': the graph already has a vertex of the "
                            + "name the twin gives a branch of conv '" + c + "'; rename it");
                }
            }
            LayerVertex convVertex = (LayerVertex) vertices.get(c);
            if (!(convVertex.getLayerConf().getLayer() instanceof ConvolutionLayer)) {
                throw new IllegalArgumentException("block " + c + " (layer '" + c + "'): expected a ConvolutionLayer or "
                        + "DepthwiseConvolution2D, got " + convVertex.getLayerConf().getLayer().getClass().getSimpleName()
                        + " (a fused conv-BN-ReLU layer: build the twin from ConvBnReluFusion.unfuse(conf))");
            }
            ConvolutionLayer conv = (ConvolutionLayer) convVertex.getLayerConf().getLayer();
            if (conv.getActivationFn() != null && !(conv.getActivationFn() instanceof ActivationIdentity)) {
                throw new IllegalArgumentException("block " + c + " (layer '" + c + "'): expected a linear conv "
                        + "(activation identity; the BatchNorm after it comes first), got activation "
                        + conv.getActivationFn());
            }
            List<String> convInput = inputs.get(c);
            String bn = consumerOf(g, c);
            boolean branchesTrainable = mode == Mode.SEARCH;

            List<String> summands = new ArrayList<>();
            add(g, scaleConv(c), scale(convVertex, conv, scaleConv(c), b.outChannels(), b.scaleConv(),
                    branchesTrainable, false), List.of(c));
            summands.add(scaleConv(c));
            if (b.scale1x1() != null) {
                ConvolutionLayer one = (ConvolutionLayer) conv.clone();
                one.setLayerName(conv1x1(c));
                one.setKernelSize(new int[]{1, 1});
                one.setPadding(new int[]{0, 0});
                one.setConvolutionMode(ConvolutionMode.Truncate);
                one.setHasBias(false);
                add(g, conv1x1(c), withInputPreProcessor(layerConf(convVertex, one), convVertex), convInput);
                add(g, scale1x1(c), scale(convVertex, conv, scale1x1(c), b.outChannels(), b.scale1x1(),
                        branchesTrainable, false), List.of(conv1x1(c)));
                summands.add(scale1x1(c));
            }
            if (b.hasIdentity()) {
                add(g, scaleIdentity(c), withInputPreProcessor(scale(convVertex, conv, scaleIdentity(c), b.outChannels(),
                        b.scaleIdentity(), true, true), convVertex), convInput);
                summands.add(scaleIdentity(c));
            }
            vertices.put(sum(c), new ElementWiseVertex(ElementWiseVertex.Op.Add));
            inputs.put(sum(c), summands);
            List<String> bnInputs = new ArrayList<>(inputs.get(bn));
            bnInputs.replaceAll(v -> v.equals(c) ? sum(c) : v);
            inputs.put(bn, bnInputs);
        }
        // DL4J caches the topological order in the configuration; the new vertices need a new one
        g.setTopologicalOrder(null);
        g.setTopologicalOrderStr(null);
        return g;
    }

    private static String consumerOf(ComputationGraphConfiguration g, String conv) {
        List<String> consumers = new ArrayList<>();
        g.getVertexInputs().forEach((v, in) -> {
            if (in.contains(conv)) {
                consumers.add(v);
            }
        });
        // ScaleAssignment has checked that it is exactly one BatchNormalization layer
        return consumers.get(0);
    }

    private static void add(ComputationGraphConfiguration g, String name, GraphVertex vertex, List<String> in) {
        g.getVertices().put(name, vertex);
        g.getVertexInputs().put(name, new ArrayList<>(in));
    }

    /** A layer vertex with the conv's layer-independent settings (seed, data type, ...) and no recorded params. */
    private static LayerVertex layerConf(LayerVertex like, org.deeplearning4j.nn.conf.layers.Layer layer) {
        NeuralNetConfiguration conf = like.getLayerConf().clone();
        conf.clearVariables();
        conf.setLayer(layer);
        return new LayerVertex(conf, null);
    }

    /** The branches that read the conv's input see it as the conv does (a MultiLayerConfiguration's reshaping). */
    private static LayerVertex withInputPreProcessor(LayerVertex branch, LayerVertex convVertex) {
        if (convVertex.getPreProcessor() != null) {
            branch.setPreProcessor(convVertex.getPreProcessor().clone());
        }
        return branch;
    }

    private static LayerVertex scale(LayerVertex convVertex, ConvolutionLayer conv, String name, int channels,
                                     double[] values, boolean trainable, boolean decayed) {
        ChannelScaleLayer s = new ChannelScaleLayer.Builder().name(name).channels(channels).initialScales(values)
                .trainable(trainable).decayed(decayed).dataFormat(conv.getCnn2dDataFormat()).build();
        s.setIUpdater(conv.getIUpdater() == null ? null : conv.getIUpdater().clone());
        s.setRegularization(conv.getRegularization() == null ? new ArrayList<>()
                : new ArrayList<>(conv.getRegularization()));
        s.setRegularizationBias(new ArrayList<>());
        return layerConf(convVertex, s);
    }
}
