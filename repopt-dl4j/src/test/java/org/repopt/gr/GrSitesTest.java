package org.repopt.gr;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Finding GR sites on users' networks, the report's reasons, and a MultiLayerConfiguration as a graph. */
class GrSitesTest {

    private static ConvolutionLayer conv(int k, int stride, int out, ConvolutionMode mode, int pad, Activation act) {
        return new ConvolutionLayer.Builder(k, k).stride(stride, stride).padding(pad, pad).convolutionMode(mode)
                .nOut(out).hasBias(false).activation(act).build();
    }

    /** A user's VGG-style graph: Same padding, max pooling, ActivationLayers, and convs of every kind of refusal. */
    static ComputationGraphConfiguration userGraph() {
        return new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.DOUBLE).activation(Activation.RELU)
                .graphBuilder().addInputs("x")
                .addLayer("c1", conv(3, 1, 8, ConvolutionMode.Same, 0, Activation.IDENTITY), "x")
                .addLayer("n1", new BatchNormalization.Builder().build(), "c1")
                .addLayer("r1", new ActivationLayer(Activation.RELU), "n1")
                .addLayer("p1", new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build(), "r1")
                .addLayer("c2", conv(3, 2, 16, ConvolutionMode.Same, 0, Activation.IDENTITY), "p1")
                .addLayer("n2", new BatchNormalization.Builder().build(), "c2")
                .addLayer("c3", conv(3, 1, 16, ConvolutionMode.Truncate, 1, Activation.RELU), "n2")
                .addLayer("n3", new BatchNormalization.Builder().build(), "c3")
                .addLayer("c4", conv(1, 1, 16, ConvolutionMode.Truncate, 0, Activation.IDENTITY), "n3")
                .addLayer("n4", new BatchNormalization.Builder().build(), "c4")
                .addLayer("dw", new DepthwiseConvolution2D.Builder(3, 3).padding(1, 1).hasBias(false)
                        .convolutionMode(ConvolutionMode.Truncate).activation(Activation.IDENTITY).build(), "n4")
                .addLayer("n5", new BatchNormalization.Builder().build(), "dw")
                .addLayer("dwb", new DepthwiseConvolution2D.Builder(3, 3).padding(1, 1).hasBias(true)
                        .convolutionMode(ConvolutionMode.Truncate).activation(Activation.IDENTITY).build(), "n5")
                .addLayer("n6", new BatchNormalization.Builder().build(), "dwb")
                .addLayer("c7", conv(5, 1, 16, ConvolutionMode.Truncate, 2, Activation.IDENTITY), "n6")
                .addLayer("r7", new ActivationLayer(Activation.RELU), "c7")
                .addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "r7")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "gap")
                .setOutputs("out").setInputTypes(InputType.convolutional(8, 8, 3)).build();
    }

    @Test
    void everyConvIsASiteOrSaysWhyNot() {
        GrSites found = GrSites.find(userGraph());
        assertEquals(List.of("c1", "c2", "c3", "c4", "dw", "dwb", "c7"),
                found.convs().stream().map(GrSites.Conv::layer).toList());
        assertEquals(List.of("c1", "dw"), found.siteNames());
        GrSite c1 = found.site("c1").orElseThrow();
        assertEquals(new GrSite("c1", GrSite.Kind.CONVOLUTION, "n1", 3, 1, 3, 8, 1), c1);
        assertFalse(c1.identityPossible());
        assertTrue(c1.oneByOnePossible());
        GrSite dw = found.site("dw").orElseThrow();
        assertEquals(new GrSite("dw", GrSite.Kind.DEPTHWISE, "n5", 3, 1, 16, 16, 16), dw);
        assertTrue(dw.depthwise() && dw.identityPossible() && !dw.oneByOnePossible());
        assertArrayEquals(new long[]{3, 3, 16, 1}, dw.kernelShape());
        assertEquals("3x3 + identity", dw.branches());
        assertReason(found, "c2", "Same pads asymmetrically at stride 2");
        assertReason(found, "c3", "expected identity");
        assertReason(found, "c4", "kernel [1, 1]");
        assertReason(found, "dwb", "hasBias(false)");
        assertReason(found, "c7", "expected a BatchNormalization");
        String text = found.toText();
        assertTrue(text.startsWith("GR sites: 2 of 7 conv layers\n"), text);
        assertEquals(8, text.split("\n").length, text);
        assertTrue(text.contains("c1: 3x3/s1 3->8 -> n1, branches 3x3 + 1x1: re-parameterized"), text);
        assertTrue(text.contains("c4: ConvolutionLayer, not a GR site: kernel [1, 1]"), text);
    }

    private static void assertReason(GrSites found, String layer, String part) {
        GrSites.Conv c = found.conv(layer).orElseThrow();
        assertFalse(c.isSite(), layer);
        assertTrue(c.reason().contains(part), layer + ": " + c.reason());
    }

    @Test
    void aNetworkWithoutSitesIsOneLineNamingEachConv() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().list()
                .layer(conv(3, 1, 4, ConvolutionMode.Same, 0, Activation.RELU))
                .layer(new OutputLayer.Builder().nOut(2).build())
                .setInputType(InputType.convolutional(6, 6, 1)).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GrSites.find(conf).requireAny());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().contains("no GR site") && e.getMessage().contains("layer0: ConvolutionLayer")
                && e.getMessage().contains("expected identity"), e.getMessage());
    }

    /** A LeNet/VGG-style MultiLayerConfiguration with BN, one layer named by the user. */
    static MultiLayerConfiguration userMultiLayer() {
        return new NeuralNetConfiguration.Builder().seed(5).dataType(DataType.DOUBLE).list()
                .layer(conv(3, 1, 4, ConvolutionMode.Same, 0, Activation.IDENTITY))
                .layer(new BatchNormalization.Builder().build())
                .layer(new ActivationLayer(Activation.RELU))
                .layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
                .layer(new ConvolutionLayer.Builder(3, 3).name("second").padding(1, 1).nOut(4).hasBias(false)
                        .convolutionMode(ConvolutionMode.Truncate).activation(Activation.IDENTITY).build())
                .layer(new BatchNormalization.Builder().build())
                .layer(new ActivationLayer(Activation.RELU))
                .layer(new DenseLayer.Builder().nOut(6).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(8, 8, 2)).build();
    }

    @Test
    void aMultiLayerConfigurationIsTheSameChainAsAGraph() {
        MultiLayerConfiguration conf = userMultiLayer();
        assertEquals(List.of("layer0", "layer1", "layer2", "layer3", "second", "layer5", "layer6", "layer7", "layer8"),
                MultiLayerAsGraph.layerNames(conf));
        GrSites sites = GrSites.find(conf);
        assertEquals(List.of("layer0", "second"), sites.siteNames());
        assertEquals("layer5", sites.site("second").orElseThrow().batchNorm());

        ComputationGraphConfiguration graph = MultiLayerAsGraph.toGraph(conf);
        // before init(), which lists each layer's parameters in its configuration
        assertEquals(conf.toJson(), MultiLayerAsGraph.toMultiLayer(graph, conf).toJson());
        ComputationGraphConfiguration viaJson = ComputationGraphConfiguration.fromJson(graph.toJson());
        assertEquals(graph, viaJson);
        MultiLayerNetwork mln = new MultiLayerNetwork(conf);
        mln.init();
        ComputationGraph cg = new ComputationGraph(viaJson);
        cg.init(mln.params().dup(), false);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 2, 2, 8, 8);
        assertEquals(mln.output(x), cg.outputSingle(x));
        assertEquals(mln.getLayer("second").getParam("W"), cg.getLayer("second").getParam("W"));
    }

    /** Flat input (as MNIST iterators give it): DL4J puts a preprocessor on the first layer; the graph keeps it. */
    @Test
    void aFlatInputsPreprocessorIsKept() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(2).dataType(DataType.DOUBLE).list()
                .layer(conv(3, 1, 4, ConvolutionMode.Same, 0, Activation.IDENTITY))
                .layer(new BatchNormalization.Builder().build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutionalFlat(6, 6, 1)).build();
        assertTrue(conf.getInputPreProcess(0) != null);
        ComputationGraphConfiguration graph = MultiLayerAsGraph.toGraph(conf);
        assertEquals(List.of("layer0"), GrSites.find(graph).siteNames());
        MultiLayerNetwork mln = new MultiLayerNetwork(conf);
        mln.init();
        ComputationGraph cg = new ComputationGraph(graph);
        cg.init(mln.params().dup(), false);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 2, 36);
        assertEquals(mln.output(x), cg.outputSingle(x));
    }

    /** TransferLearning's frozen convs are listed with why they take no scales. */
    @Test
    void frozenConvsAreListedAsNotTrained() {
        ComputationGraph net = new ComputationGraph(userGraph());
        net.init();
        ComputationGraph frozen = new org.deeplearning4j.nn.transferlearning.TransferLearning.GraphBuilder(net)
                .setFeatureExtractor("n1").build();
        GrSites found = GrSites.find(frozen.getConfiguration());
        assertEquals(List.of("dw"), found.siteNames());
        assertReason(found, "c1", "frozen (");
        assertTrue(found.conv("c1").orElseThrow().reason().contains("ConvolutionLayer): its kernel does not train"),
                found.toText());
    }
}
