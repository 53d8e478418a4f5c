package org.repopt.quant;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.repopt.quant.VggNets.BlockSpec;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BnFoldingTest {

    /** RepOpt-VGG as trained (conv without bias -> BN -> ReLU), with a stride-2 block and a BN-free block. */
    private static ComputationGraph repOptLike(boolean useLogStd) {
        return VggNets.build(3, 8, 8, 4, DataType.DOUBLE, 11, useLogStd,
                new BlockSpec(6, 2, true, false), new BlockSpec(6, 1, true, true), new BlockSpec(8, 2, false, true),
                new BlockSpec(8, 1, true, false));
    }

    private static double maxDiff(INDArray a, INDArray b) {
        return a.sub(b).amaxNumber().doubleValue();
    }

    @Test
    void foldedGraphComputesTheSameInferenceOutputs() {
        for (boolean logStd : new boolean[]{false, true}) {
            ComputationGraph g = repOptLike(logStd);
            VggNets.randomizeBatchNorms(g, 21);
            DataSet d = VggNets.randomData(5, 3, 8, 8, 4, DataType.DOUBLE, 22);
            ComputationGraph f = BnFolding.fold(g);
            PlainVgg s = PlainVgg.of(f);
            assertFalse(s.hasBatchNorm());
            assertEquals(List.of("c0", "c1", "c2", "c3"), s.blocks().stream().map(PlainVgg.Block::conv).toList());
            // Compare before the softmax too: the logits are the sensitive part.
            Map<String, INDArray> a = g.feedForward(new INDArray[]{d.getFeatures()}, false);
            Map<String, INDArray> b = f.feedForward(new INDArray[]{d.getFeatures()}, false);
            for (String relu : List.of("r0", "r1", "r2", "r3", "pool", "head")) {
                double diff = maxDiff(a.get(relu), b.get(relu));
                assertTrue(diff <= 1e-9, "useLogStd=" + logStd + ", " + relu + ": max |diff| " + diff);
            }
            assertTrue(maxDiff(a.get("r3"), Nd4j.zeros(DataType.DOUBLE, a.get("r3").shape())) > 0.1,
                    "the test needs non-trivial activations");
        }
    }

    @Test
    void foldingMatchesAfterTrainingSteps() {
        // Batch statistics moved by DL4J's own training, not by hand.
        ComputationGraph g = repOptLike(true);
        DataSet d = VggNets.randomData(16, 3, 8, 8, 4, DataType.DOUBLE, 23);
        INDArray meanBefore = g.getLayer("n0").getParam("mean").dup();
        for (int i = 0; i < 5; i++) {
            g.fit(d);
        }
        assertTrue(maxDiff(meanBefore, g.getLayer("n0").getParam("mean")) > 1e-3, "running mean did not move");
        ComputationGraph f = BnFolding.fold(g);
        DataSet test = VggNets.randomData(4, 3, 8, 8, 4, DataType.DOUBLE, 24);
        double diff = maxDiff(g.outputSingle(test.getFeatures()), f.outputSingle(test.getFeatures()));
        assertTrue(diff <= 1e-9, "max |diff| " + diff);
    }

    @Test
    void foldDoesNotMutateItsInput() {
        ComputationGraph g = repOptLike(false);
        VggNets.randomizeBatchNorms(g, 25);
        String json = g.getConfiguration().toJson();
        INDArray params = g.params().dup();
        DataSet d = VggNets.randomData(3, 3, 8, 8, 4, DataType.DOUBLE, 26);
        INDArray out = g.outputSingle(d.getFeatures()).dup();
        ComputationGraph f = BnFolding.fold(g);
        assertEquals(json, g.getConfiguration().toJson());
        assertEquals(0, maxDiff(params, g.params()));
        assertEquals(0, maxDiff(out, g.outputSingle(d.getFeatures())));
        assertTrue(g.getLayer("n0") != null && f.getVertex("n0") == null);
        // Conv c0 had no bias and gained one; the original still has none.
        assertEquals(null, g.getLayer("c0").getParam("b"));
        assertEquals(6, f.getLayer("c0").getParam("b").length());
        // The copy's parameters are its own.
        f.getLayer("c2").getParam("W").addi(1);
        assertEquals(0, maxDiff(params, g.params()));
    }

    @Test
    void aGraphWithoutBatchNormFoldsToAnEqualCopy() {
        ComputationGraph g = VggNets.build(2, 6, 6, 3, DataType.DOUBLE, 12, false,
                new BlockSpec(4, 2, false, true), new BlockSpec(4, 1, false, true));
        ComputationGraph f = BnFolding.fold(g);
        // the same layers and parameters (the copy is the deploy model: stock layers, no training state)
        assertEquals(g.getConfiguration().getVertices().keySet(), f.getConfiguration().getVertices().keySet());
        assertEquals(g.getConfiguration().getVertexInputs(), f.getConfiguration().getVertexInputs());
        assertEquals(0, maxDiff(g.params(), f.params()));
    }

    private static ComputationGraphConfiguration.GraphBuilder start() {
        return new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE).graphBuilder().addInputs("img");
    }

    private static ConvolutionLayer conv3(int out, int stride) {
        return new ConvolutionLayer.Builder(3, 3).stride(stride, stride).padding(1, 1)
                .convolutionMode(ConvolutionMode.Truncate).nOut(out).activation(Activation.IDENTITY).build();
    }

    private static ComputationGraphConfiguration head(ComputationGraphConfiguration.GraphBuilder g, String prev) {
        return g.addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), prev)
                .addLayer("fc", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "gap")
                .setOutputs("fc").setInputTypes(InputType.convolutional(8, 8, 2)).build();
    }

    private static void assertRefused(ComputationGraphConfiguration conf, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PlainVgg.of(conf));
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
        }
    }

    @Test
    void nonVggGraphsAreRefusedNamingTheLayer() {
        // A RepVGG training block: two branches added.
        ComputationGraphConfiguration.GraphBuilder g = start()
                .addLayer("k3", conv3(4, 1), "img")
                .addLayer("k1", new ConvolutionLayer.Builder(1, 1).nOut(4).activation(Activation.IDENTITY).build(),
                        "img")
                .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "k3", "k1")
                .addLayer("act", new ActivationLayer(Activation.RELU), "add");
        assertRefused(head(g, "act"), "vertex 'add' has 2 inputs [k3, k1]", "a plain VGG is a chain");

        g = start().addLayer("k3", conv3(4, 1), "img")
                .addLayer("act", new ActivationLayer(Activation.RELU), "k3")
                .addLayer("mp", new SubsamplingLayer.Builder(2, 2).stride(2, 2).build(), "act");
        assertRefused(head(g, "mp"), "layer 'mp' (SubsamplingLayer) after 'act'",
                "expected a ConvolutionLayer or GlobalPoolingLayer(AVG)");

        g = start().addLayer("k5", new ConvolutionLayer.Builder(5, 5).padding(2, 2)
                        .convolutionMode(ConvolutionMode.Truncate).nOut(4).activation(Activation.IDENTITY).build(),
                        "img")
                .addLayer("act", new ActivationLayer(Activation.RELU), "k5");
        assertRefused(head(g, "act"), "conv 'k5' has kernel [5, 5], expected [3, 3]");

        g = start().addLayer("k3", conv3(4, 1), "img")
                .addLayer("bn", new BatchNormalization.Builder().build(), "k3")
                .addLayer("act", new ActivationLayer(Activation.TANH), "bn");
        assertRefused(head(g, "act"), "layer 'act' (ActivationLayer(tanh)) after 'bn': expected ActivationLayer(ReLU)");

        g = start().addLayer("k3", new ConvolutionLayer.Builder(3, 3).nOut(4)
                        .convolutionMode(ConvolutionMode.Same).activation(Activation.IDENTITY).build(), "img")
                .addLayer("act", new ActivationLayer(Activation.RELU), "k3");
        assertRefused(head(g, "act"), "conv 'k3' has convolution mode Same and padding [0, 0]",
                "expected Truncate with padding [1, 1]");

        g = start().addLayer("k3", conv3(4, 1), "img").addLayer("act", new ActivationLayer(Activation.RELU), "k3");
        ComputationGraphConfiguration maxPool = g
                .addLayer("gmp", new GlobalPoolingLayer.Builder(PoolingType.MAX).build(), "act")
                .addLayer("fc", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "gmp")
                .setOutputs("fc").setInputTypes(InputType.convolutional(8, 8, 2)).build();
        assertRefused(maxPool, "layer 'gmp' (GlobalPoolingLayer) after 'act'");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BnFolding.fold(new ComputationGraph(maxPool)));
        assertTrue(e.getMessage().startsWith("plain VGG: layer 'gmp'"), e.getMessage());
    }
}
