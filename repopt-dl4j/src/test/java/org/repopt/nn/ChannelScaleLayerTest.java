package org.repopt.nn;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a channel scale layer reports about itself (DL4J's training UI shows it). */
class ChannelScaleLayerTest {

    private static ChannelScaleLayer layerOf(ComputationGraphConfiguration conf, String name) {
        return (ChannelScaleLayer) ((LayerVertex) conf.getVertices().get(name)).getLayerConf().getLayer();
    }

    @Test
    void reportsIdentityNotTheNetworksDefaultActivation() {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().activation(Activation.RELU)
                .graphBuilder().addInputs("in")
                .addLayer("scale", new ChannelScaleLayer.Builder().initialScale(2).build(), "in")
                .setOutputs("scale").setInputTypes(InputType.convolutional(4, 4, 3)).build();
        assertInstanceOf(ActivationIdentity.class, layerOf(conf, "scale").getActivationFn());
        ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(conf.toJson());
        assertInstanceOf(ActivationIdentity.class, layerOf(back, "scale").getActivationFn());
        // and without a network default (DL4J's own default is sigmoid)
        ComputationGraphConfiguration plain = new NeuralNetConfiguration.Builder().graphBuilder().addInputs("in")
                .addLayer("scale", new ChannelScaleLayer.Builder().build(), "in")
                .setOutputs("scale").setInputTypes(InputType.feedForward(5)).build();
        assertInstanceOf(ActivationIdentity.class, layerOf(plain, "scale").getActivationFn());
    }

    @Test
    void refusesAnActivationItWouldNotApply() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ChannelScaleLayer.Builder().name("s").activation(Activation.RELU).build());
        assertTrue(e.getMessage().contains("'s'") && e.getMessage().contains("relu"), e.getMessage());
        new ChannelScaleLayer.Builder().activation(Activation.IDENTITY).build();
    }

    @Test
    void aDecayExemptScaleHasNoRegularizationAndKeepsTheFlagThroughJson() {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().l2(1e-3).graphBuilder()
                .addInputs("in")
                .addLayer("exempt", new ChannelScaleLayer.Builder().decayed(false).build(), "in")
                .addLayer("decayed", new ChannelScaleLayer.Builder().build(), "exempt")
                .setOutputs("decayed").setInputTypes(InputType.convolutional(4, 4, 3)).build();
        ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(conf.toJson());
        for (ComputationGraphConfiguration c : new ComputationGraphConfiguration[]{conf, back}) {
            List<?> exempt = layerOf(c, "exempt").getRegularizationByParam(ChannelScaleParamInitializer.SCALE_KEY);
            assertTrue(exempt == null || exempt.isEmpty(), "exempt scale regularized: " + exempt);
            assertFalse(layerOf(c, "decayed").getRegularizationByParam(ChannelScaleParamInitializer.SCALE_KEY)
                    .isEmpty(), "the default scale layer is decayed");
        }
        assertFalse(layerOf(back, "exempt").isDecayed());
    }
}
