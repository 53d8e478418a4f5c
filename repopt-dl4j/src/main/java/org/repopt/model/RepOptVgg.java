package org.repopt.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.repopt.gr.RepOptimizer;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * RepOpt-VGG, the target model (Ding et al., ICLR 2023): a plain VGG of {@code relu(bn(conv3x3(x)))} blocks whose
 * structural prior lives in the optimizer. Train it with {@link #init(RepOptimizer.Builder)}:
 * <pre>{@code
 * ComputationGraph net = RepOptVgg.builder(VggSpec.of(Variant.B1)).build()
 *         .init(RepOptimizer.sgd(ScalesFile.released("B1")).learningRate(0.1));
 * }</pre>
 * The trained network is the deployable model. Trained with {@code RepOptimizer.baselineSgd()} instead, the same
 * network is the paper's plain-SGD VGG baseline.
 */
public final class RepOptVgg extends VggModel {

    private RepOptVgg(VggModel.Builder<?, ?> b) {
        super(b);
    }

    /** @return a builder for the given architecture */
    public static SimpleBuilder<RepOptVgg> builder(VggSpec spec) {
        return new SimpleBuilder<>(spec, RepOptVgg::new);
    }

    @Override
    public String family() {
        return "RepOpt-VGG";
    }

    @Override
    protected String addBlock(ComputationGraphConfiguration.GraphBuilder g, BlockSpec b, String input) {
        g.addLayer(LayerNames.conv(b.name()), conv(3, b.stride(), b.out(), false), input);
        g.addLayer(LayerNames.bn(b.name()), bn(), LayerNames.conv(b.name()));
        return relu(g, b, LayerNames.bn(b.name()));
    }

    /** @return block name to the name of its 3x3 conv, in forward order */
    public Map<String, String> convOfBlock() {
        Map<String, String> out = new LinkedHashMap<>();
        spec().blocks().forEach(b -> out.put(b.name(), LayerNames.conv(b.name())));
        return out;
    }

    /**
     * Builds the network and attaches the RepOptimizer: the scales must be this architecture's (block names,
     * channels and strides, in order); each block's scales go to the conv of the same block; the network is
     * re-initialized unless the optimizer is in fine-tune mode. The builder's mapping is set to this model's names.
     * The scales are assigned on the three-layer form; the network comes in the engine's form (a fused layer keeps
     * its conv's name and kernel, so the Grad Mult stays on the same kernel).
     *
     * @param optimizer a RepOptimizer builder holding the scales and hyper-parameters, or a baseline (no scales)
     * @return the network, ready for {@code fit}
     * @throws IllegalArgumentException naming the first block where the scales do not fit
     */
    @Override
    public ComputationGraph init(RepOptimizer.Builder optimizer) {
        if (optimizer.scales().isEmpty()) {
            return super.init(optimizer);   // RepOptimizer.baselineSgd(): the plain-SGD VGG
        }
        spec().requireMatches(optimizer.scales(), "RepOpt-VGG-" + spec().name());
        return super.init(optimizer.mapByName(convOfBlock()));
    }
}
