package org.repopt.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;

/**
 * The deploy form of a structurally re-parameterized model: a plain VGG of {@code relu(conv3x3(x) + bias)} blocks,
 * without BatchNorm, as {@link RepVgg#deploy} produces it.
 */
public final class FusedVgg extends VggModel {

    private FusedVgg(Builder b) {
        super(b);
    }

    /** @return a builder for the given architecture */
    public static Builder builder(VggSpec spec) {
        return new Builder(spec);
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

    /** Builds a {@link FusedVgg}. */
    public static final class Builder extends VggModel.Builder<FusedVgg, Builder> {
        private Builder(VggSpec spec) {
            super(spec);
        }

        @Override
        protected Builder self() {
            return this;
        }

        @Override
        public FusedVgg build() {
            return new FusedVgg(this);
        }
    }
}
