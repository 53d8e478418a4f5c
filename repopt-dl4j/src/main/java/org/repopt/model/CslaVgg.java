package org.repopt.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.repopt.gr.BlockScales;
import org.repopt.gr.CslaBlockLayers;
import org.repopt.gr.ScalesFile;
import org.repopt.nn.ChannelScaleLayer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The VGG of CSLA blocks (Ding et al., ICLR 2023, section 3.3; docs/METHOD.md#csla-block):
 * {@code relu(bn(s3 ⊙ conv3x3(x) + s1 ⊙ conv1x1(x) [+ sid ⊙ x]))} with per-output-channel scales and one BatchNorm
 * after the sum, trained as one of two models (the families {@code HS} and {@code CSLA}):
 * <ul>
 *   <li>{@link Mode#SEARCH}, the Hyper-Search model: all three scales trainable (weight decay on the identity scale
 *       only, as the reference code), initialized as the paper does ({@code s3 = s1 = 1} for a
 *       stage's first block and the stem, {@code sqrt(2/i)} for block {@code i > 0}; {@code sid = 1}). Training it
 *       on a search data set and {@link #exportScales exporting} its scales is Hyper-Search.</li>
 *   <li>{@link Mode#CSLA}, the CSLA model: {@code s3} and {@code s1} constant, given by a scales file; {@code sid}
 *       trainable. Trained with plain SGD, this is the model RepOpt-VGG with the same scales is equivalent to.</li>
 * </ul>
 *
 * <p>{@link org.repopt.search.CslaTwin} builds the same CSLA block, in the same two modes, around the convs of any
 * user graph, under the user's layer names ({@code gr.<conv>.<role>} for the added branches). This class is the
 * model family's own VGG: its layers carry the family's names ({@link LayerNames}), which saved runs and the tests
 * use, so it keeps its own builder. Reading a trained network (its scales, its equivalent kernels) has
 * one owner for both, {@link CslaBlockLayers}.
 */
public final class CslaVgg extends VggModel {

    /** Which scales are trained. */
    public enum Mode {
        /** Every scale trainable: the Hyper-Search itself. */
        SEARCH,
        /** Constant branch scales from a scales file, trainable identity scale. */
        CSLA
    }

    private final Mode mode;
    private final List<BlockScales> constantScales;

    private CslaVgg(Builder b) {
        super(b);
        this.mode = b.constantScales == null ? Mode.SEARCH : Mode.CSLA;
        this.constantScales = b.constantScales;
        if (constantScales != null) {
            spec().requireMatches(constantScales, displayName());
        }
    }

    /** @return a builder for the given architecture (search mode unless {@link Builder#csla} is called) */
    public static Builder builder(VggSpec spec) {
        return new Builder(spec);
    }

    /** @return search or CSLA */
    public Mode mode() {
        return mode;
    }

    @Override
    public String family() {
        return mode == Mode.SEARCH ? "HS" : "CSLA";
    }

    @Override
    protected String addBlock(ComputationGraphConfiguration.GraphBuilder g, BlockSpec b, String input) {
        String n = b.name();
        BlockScales given = mode == Mode.CSLA ? constantScales.get(spec().blocks().indexOf(b)) : null;
        boolean branchesTrainable = mode == Mode.SEARCH;
        g.addLayer(LayerNames.conv(n), conv(3, b.stride(), b.out(), false), input);
        g.addLayer(LayerNames.scaleConv(n), scale(b, given == null ? null : given.scaleConv(),
                b.initialBranchScale(), branchesTrainable, false), LayerNames.conv(n));
        g.addLayer(LayerNames.conv1x1(n), conv(1, b.stride(), b.out(), false), input);
        g.addLayer(LayerNames.scale1x1(n), scale(b, given == null ? null : given.scale1x1(),
                b.initialBranchScale(), branchesTrainable, false), LayerNames.conv1x1(n));
        String summed;
        if (b.hasIdentity()) {
            g.addLayer(LayerNames.scaleIdentity(n), scale(b, given == null ? null : given.scaleIdentity(), 1.0, true, true),
                    input);
            summed = sum(g, b, LayerNames.scaleConv(n), LayerNames.scale1x1(n), LayerNames.scaleIdentity(n));
        } else {
            summed = sum(g, b, LayerNames.scaleConv(n), LayerNames.scale1x1(n));
        }
        g.addLayer(LayerNames.bn(n), bn(), summed);
        return relu(g, b, LayerNames.bn(n));
    }

    /**
     * A block's scale layer. Only the identity scale is weight-decayed: the reference code exempts the branch scales
     * {@code s3}, {@code s1} (docs/METHOD.md#hyper-search-recipe), and the CSLA equivalence needs the identity
     * scale decayed (docs/METHOD.md#why-exact).
     */
    private static ChannelScaleLayer scale(BlockSpec b, double[] values, double init, boolean trainable,
                                           boolean decayed) {
        ChannelScaleLayer.Builder builder = new ChannelScaleLayer.Builder().channels(b.out()).trainable(trainable)
                .decayed(decayed);
        return (values == null ? builder.initialScale(init) : builder.initialScales(values)).build();
    }

    /**
     * The scales a Hyper-Search starts from (docs/METHOD.md#hyper-search-init): {@code s3 = s1 = 1} for the stem and each stage's
     * first block, {@code sqrt(2/i)} for block {@code i > 0}, {@code sid = 1}.
     *
     * @param spec an architecture
     * @return its initial scales, named and ordered as {@link RepOptVgg} expects them
     */
    public static ScalesFile initialScales(VggSpec spec) {
        List<BlockScales> blocks = new ArrayList<>();
        for (BlockSpec b : spec.blocks()) {
            double[] branch = new double[b.out()];
            Arrays.fill(branch, b.initialBranchScale());
            double[] identity = new double[b.out()];
            Arrays.fill(identity, 1.0);
            blocks.add(new BlockScales(b.name(), b.in(), b.out(), b.stride(), branch, branch,
                    b.hasIdentity() ? identity : null));
        }
        return new ScalesFile("RepOpt-VGG-" + spec.name(), spec.depths(), null,
                "Hyper-Search initial values (docs/METHOD.md#hyper-search-init), not searched", blocks);
    }

    /**
     * The plain 3x3 kernel each block of a CSLA network of this architecture is equivalent to now:
     * {@code s3 ⊙ W3 + pad(s1 ⊙ W1) [+ pad(I ⊙ sid)]} from the network's current parameters (Rule of
     * Initialization applied to a trained state).
     *
     * @param net a network built by this model
     * @return block name to its kernel {@code [out, in, 3, 3]}, in forward order
     * @throws IllegalArgumentException where {@code net} lacks a layer of this architecture
     */
    public Map<String, INDArray> equivalentKernels(ComputationGraph net) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (BlockScales shape : initialScales(spec()).blocks()) {
            CslaBlockLayers layers = layersOf(shape.block());
            out.put(shape.block(), layers.equivalentKernel(net, layers.currentScales(net, shape)));
        }
        return out;
    }

    /**
     * Reads the scales of a trained Hyper-Search (or CSLA) network of this architecture.
     *
     * @param net    a network built by this model
     * @param source provenance to record in the file (data set, epochs, ...), or {@code null}
     * @return the scales, named and ordered as {@link RepOptVgg} expects them
     * @throws IllegalArgumentException where {@code net} lacks a scale layer of this architecture
     */
    public ScalesFile exportScales(ComputationGraph net, String source) {
        List<BlockScales> blocks = new ArrayList<>();
        for (BlockScales shape : initialScales(spec()).blocks()) {
            blocks.add(layersOf(shape.block()).currentScales(net, shape));
        }
        double[] widths = Arrays.stream(Variant.values()).filter(v -> v.name().equals(spec().name())
                && v.spec().withInput(spec().inputChannels(), spec().inputHeight(), spec().inputWidth())
                .withClasses(spec().numClasses()).equals(spec())).findFirst().map(Variant::widthMultiplier)
                .orElse(null);
        return new ScalesFile("RepOpt-VGG-" + spec().name(), spec().depths(), widths, source, blocks);
    }

    /** The block's layers under the model family's own names ({@link LayerNames}). */
    private static CslaBlockLayers layersOf(String block) {
        return new CslaBlockLayers(LayerNames.conv(block), LayerNames.conv1x1(block), LayerNames.scaleConv(block),
                LayerNames.scale1x1(block), LayerNames.scaleIdentity(block),
                "not a Hyper-Search network of this architecture");
    }

    /** Builds a {@link CslaVgg}. */
    public static final class Builder extends VggModel.Builder<CslaVgg, Builder> {
        private List<BlockScales> constantScales;

        private Builder(VggSpec spec) {
            super(spec);
        }

        /**
         * CSLA mode: branch scales constant at the given values, identity scale trainable from the given values.
         *
         * @param scales this architecture's scales, in forward order
         */
        public Builder csla(List<BlockScales> scales) {
            this.constantScales = List.copyOf(Objects.requireNonNull(scales, "scales"));
            return this;
        }

        @Override
        protected Builder self() {
            return this;
        }

        @Override
        public CslaVgg build() {
            return new CslaVgg(this);
        }
    }
}
