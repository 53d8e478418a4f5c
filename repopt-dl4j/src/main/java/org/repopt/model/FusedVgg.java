package org.repopt.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;

/**
 * The deploy form of a structurally re-parameterized model: a plain VGG of {@code relu(conv3x3(x) + bias)} blocks,
 * without BatchNorm, as {@link RepVgg#deploy} produces it.
 */
public final class FusedVgg extends VggModel {

    private FusedVgg(VggModel.Builder<?, ?> b) {
        super(b);
    }

    /** @return a builder for the given architecture */
    public static SimpleBuilder<FusedVgg> builder(VggSpec spec) {
        return new SimpleBuilder<>(spec, FusedVgg::new);
    }

    @Override
    public String family() {
        return "RepVGG-deploy";
    }

    @Override
    protected String addBlock(ComputationGraphConfiguration.GraphBuilder g, BlockSpec b, String input) {
        g.addLayer(LayerNames.conv(b.name()), conv(3, b.stride(), b.out(), true), input);
        return relu(g, b, LayerNames.conv(b.name()));
    }
}
