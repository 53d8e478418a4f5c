package org.repopt.gr;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.repopt.model.BlockSpec;
import org.repopt.model.LayerNames;
import org.repopt.model.RepOptVgg;
import org.repopt.model.VggSpec;
import org.repopt.testing.TinySpecs;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Rule of Initialization on DL4J networks, and its refusal to touch networks that are not fresh. */
class ReinitTest {

    private final VggSpec spec = TinySpecs.tiny();
    private final List<BlockScales> scales = TinySpecs.randomScales(spec, 4);
    private final RepOptVgg model = RepOptVgg.builder(spec).dataType(DataType.DOUBLE).seed(2).build();

    @Test
    void reinitializedKernelIsTheScaledInitPlusCentreTerms() {
        ComputationGraph fresh = model.init();
        ComputationGraph net = RepOptimizer.sgd(scales).seed(5).applyTo(fresh);
        for (int i = 0; i < spec.blocks().size(); i++) {
            BlockSpec b = spec.blocks().get(i);
            double[] w3 = fresh.getLayer(LayerNames.conv(b.name())).getParam("W").dup('c').data().asDouble();
            double[] w = net.getLayer(LayerNames.conv(b.name())).getParam("W").dup('c').data().asDouble();
            double[] s3 = scales.get(i).scaleConv();
            for (int o = 0; o < b.out(); o++) {
                for (int in = 0; in < b.in(); in++) {
                    for (int t = 0; t < 9; t++) {
                        int k = (o * b.in() + in) * 9 + t;
                        if (t != 4) {
                            assertEquals(s3[o] * w3[k], w[k], 1e-15, b.name() + " off-centre tap");
                        }
                    }
                }
            }
        }
        assertTrue(net.params().sub(fresh.params()).amaxNumber().doubleValue() > 0, "kernels changed");
    }

    @Test
    void reinitIsReproducibleForASeed() {
        ComputationGraph a = RepOptimizer.sgd(scales).seed(5).applyTo(model.init());
        ComputationGraph b = RepOptimizer.sgd(scales).seed(5).applyTo(model.init());
        assertEquals(a.params(), b.params());
    }

    @Test
    void refusesATrainedNetwork() {
        ComputationGraph net = RepOptimizer.baselineSgd().applyTo(model.conf());
        net.fit(TinySpecs.batch(spec, 4, 1, DataType.DOUBLE));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> RepOptimizer.sgd(scales).applyTo(net));
        assertTrue(e.getMessage().contains("iteration count 1") && e.getMessage().contains("fineTune()"),
                e.getMessage());
    }

    @Test
    void refusesBatchNormThatLeftItsInitialState() {
        ComputationGraph net = model.init();
        net.getLayer(LayerNames.bn("stage1.0")).getParam("gamma").putScalar(0, 0.7);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> RepOptimizer.sgd(scales).applyTo(net));
        assertTrue(e.getMessage().contains("'stage1.0.bn'") && e.getMessage().contains("gamma"), e.getMessage());
    }

    @Test
    void refusesANetworkRestoredFromAFile(@TempDir Path dir) throws IOException {
        ComputationGraph trained = RepOptimizer.sgd(scales).applyTo(model.conf());
        trained.fit(TinySpecs.batch(spec, 4, 1, DataType.DOUBLE));
        File f = dir.resolve("trained.zip").toFile();
        ModelSerializer.writeModel(trained, f, true);
        ComputationGraph restored = ModelSerializer.restoreComputationGraph(f, true);
        assertThrows(IllegalStateException.class, () -> RepOptimizer.sgd(scales).applyTo(restored));
    }

    @Test
    void fineTuneKeepsTheWeights() {
        ComputationGraph trained = RepOptimizer.baselineSgd().applyTo(model.conf());
        trained.fit(TinySpecs.batch(spec, 4, 1, DataType.DOUBLE));
        ComputationGraph tuned = RepOptimizer.sgd(scales).fineTune().applyTo(trained);
        assertEquals(trained.params(), tuned.params());
        assertTrue(tuned.getConfiguration().toJson().contains(GradMultHook.class.getName()));
    }

    // Issue 10 item 1, issue 16: depthwise kernels and odd k > 3; issue 17 item 6: no global generator touched.

    private static final double[] S4 = {0.5, 1.5, 2.0, 0.75};
    private static final double[] SID4 = {1.0, 0.25, 3.0, 0.5};

    /** input 4 channels -> conv (name "conv", k x k, 4 -> 4, stride 1, padding k/2) -> BN -> pooling -> output. */
    private static ComputationGraph oneConv(Layer conv) {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.DOUBLE)
                .graphBuilder().addInputs("in").setInputTypes(InputType.convolutional(6, 6, 4))
                .addLayer("conv", conv, "in")
                .addLayer("bn", new BatchNormalization.Builder().build(), "conv")
                .addLayer("pool", new GlobalPoolingLayer.Builder().build(), "bn")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(2)
                        .activation(Activation.SOFTMAX).build(), "pool")
                .setOutputs("out").build();
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        return net;
    }

    private static ComputationGraph depthwiseNet(int k) {
        return oneConv(new DepthwiseConvolution2D.Builder(k, k).depthMultiplier(1).padding(k / 2, k / 2)
                .hasBias(false).build());
    }

    @Test
    void depthwiseReinitScalesTheKernelAndAddsTheIdentityAtTheCentreTap() {
        for (int k : new int[]{3, 5}) {
            ComputationGraph net = depthwiseNet(k);
            INDArray w = net.getLayer("conv").getParam("W").dup();
            assertArrayEquals(new long[]{k, k, 4, 1}, w.shape(), "DL4J's depthwise layout");
            BlockScales s = BlockScales.depthwise("ghost", 4, 1, k, S4, SID4);
            Reinit.apply(net, Map.of("conv", s), 9);
            INDArray r = net.getLayer("conv").getParam("W");
            for (int p = 0; p < k; p++) {
                for (int q = 0; q < k; q++) {
                    for (int c = 0; c < 4; c++) {
                        double expected = S4[c] * w.getDouble(p, q, c, 0) + (p == k / 2 && q == k / 2 ? SID4[c] : 0);
                        assertEquals(expected, r.getDouble(p, q, c, 0), 0.0, "k " + k + " [" + p + "," + q + "," + c + "]");
                    }
                }
            }
            // the pure function agrees in both layouts
            INDArray torch = w.permute(2, 3, 0, 1).dup('c');
            assertEquals(r, Reinit.equivalentKernel(s, w, null));
            assertEquals(r.permute(2, 3, 0, 1), Reinit.equivalentKernel(s, torch, null));
        }
    }

    @Test
    void aStrideTwoDepthwiseBlockIsOnlyScaled() {
        ComputationGraph net = oneConv(new DepthwiseConvolution2D.Builder(3, 3).depthMultiplier(1).stride(2, 2)
                .padding(1, 1).hasBias(false).build());
        INDArray w = net.getLayer("conv").getParam("W").dup();
        Reinit.apply(net, Map.of("conv", BlockScales.depthwise("dw", 4, 2, 3, S4, null)), 9);
        INDArray expected = w.mul(Nd4j.createFromArray(S4).reshape(1, 1, 4, 1));
        assertEquals(expected, net.getLayer("conv").getParam("W"));
    }

    @Test
    void anOddKernelFoldsTheOneByOneAndIdentityAtItsCentreTap() {
        BlockScales s = new BlockScales("k5", 4, 4, 1, 5, 1, S4, new double[]{2, 3, 4, 5}, SID4);
        INDArray w = Nd4j.rand(DataType.DOUBLE, 4, 4, 5, 5);
        INDArray w1 = Nd4j.rand(DataType.DOUBLE, 4, 4);
        INDArray r = Reinit.equivalentKernel(s, w, w1);
        for (int o = 0; o < 4; o++) {
            for (int i = 0; i < 4; i++) {
                for (int p = 0; p < 5; p++) {
                    for (int q = 0; q < 5; q++) {
                        double expected = S4[o] * w.getDouble(o, i, p, q) + (p == 2 && q == 2
                                ? s.scale1x1()[o] * w1.getDouble(o, i) + (o == i ? SID4[o] : 0) : 0);
                        assertEquals(expected, r.getDouble(o, i, p, q), 1e-15);
                    }
                }
            }
        }
        // in a network: off-centre taps are the scaled init; the centre carries a drawn 1x1 kernel, reproducibly
        ComputationGraph a = oneConv(new ConvolutionLayer.Builder(5, 5).nOut(4).padding(2, 2).hasBias(false).build());
        INDArray fresh = a.getLayer("conv").getParam("W").dup();
        ComputationGraph b = oneConv(new ConvolutionLayer.Builder(5, 5).nOut(4).padding(2, 2).hasBias(false).build());
        Reinit.apply(a, Map.of("conv", s), 11);
        Reinit.apply(b, Map.of("conv", s), 11);
        INDArray ra = a.getLayer("conv").getParam("W");
        assertEquals(ra, b.getLayer("conv").getParam("W"), "same seed, same kernel");
        INDArray scaled = fresh.mul(Nd4j.createFromArray(S4).reshape(4, 1, 1, 1));
        INDArray centreGap = ra.sub(scaled).get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.point(2),
                NDArrayIndex.point(2));
        INDArray offCentre = ra.sub(scaled);
        offCentre.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.point(2), NDArrayIndex.point(2)).assign(0);
        assertEquals(0.0, offCentre.amaxNumber().doubleValue(), 0.0);
        assertTrue(centreGap.sub(Nd4j.diag(Nd4j.createFromArray(SID4))).amaxNumber().doubleValue() > 0,
                "the centre carries s1 * W1");
    }

    @Test
    void reinitLeavesTheCallersGeneratorAlone() {
        ComputationGraph net = model.init();
        Map<String, BlockScales> byLayer = new LinkedHashMap<>();
        for (int i = 0; i < spec.blocks().size(); i++) {
            byLayer.put(LayerNames.conv(spec.blocks().get(i).name()), scales.get(i));
        }
        Nd4j.getRandom().setSeed(123);
        INDArray expected = Nd4j.rand(DataType.DOUBLE, 8);
        Nd4j.getRandom().setSeed(123);
        Reinit.apply(net, byLayer, 5);
        assertEquals(expected, Nd4j.rand(DataType.DOUBLE, 8), "the caller's generator was neither re-seeded nor advanced");
        ComputationGraph again = model.init();
        Reinit.apply(again, byLayer, 5);
        assertEquals(net.params(), again.params(), "reproducible for a seed");
        ComputationGraph other = model.init();
        Reinit.apply(other, byLayer, 6);
        assertTrue(net.params().sub(other.params()).amaxNumber().doubleValue() > 0, "another seed, other 1x1 kernels");
    }

    @Test
    void aMultiLayerNetworkIsReinitializedByLayerName() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.DOUBLE).list()
                .layer(new DepthwiseConvolution2D.Builder(3, 3).name("dw").depthMultiplier(1).padding(1, 1)
                        .hasBias(false).build())
                .layer(new BatchNormalization.Builder().name("bn").build())
                .layer(new GlobalPoolingLayer.Builder().build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(2)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(6, 6, 4)).build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        INDArray w = net.getLayer("dw").getParam("W").dup();
        BlockScales s = BlockScales.depthwise("dw", 4, 1, 3, S4, SID4);
        Reinit.apply(net, Map.of("dw", s), 1);
        assertEquals(Reinit.equivalentKernel(s, w, null), net.getLayer("dw").getParam("W"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Reinit.apply(net, Map.of("nope", s), 1));
        assertTrue(e.getMessage().contains("block dw") && e.getMessage().contains("'nope'"), e.getMessage());
    }

    @Test
    void aKernelOfAnotherShapeIsRefusedNamingTheBlockAndLayer() {
        ComputationGraph net = depthwiseNet(3);
        BlockScales k5 = BlockScales.depthwise("ghost", 4, 1, 5, S4, SID4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Reinit.apply(net, Map.of("conv", k5), 1));
        assertTrue(e.getMessage().contains("block ghost (layer 'conv')") && e.getMessage().contains("[3, 3, 4, 1]")
                && e.getMessage().contains("[5, 5, 4, 1]"), e.getMessage());
        BlockScales dw = BlockScales.depthwise("ghost", 4, 1, 3, S4, SID4);
        IllegalArgumentException withOneByOne = assertThrows(IllegalArgumentException.class,
                () -> Reinit.equivalentKernel(dw, Nd4j.rand(DataType.DOUBLE, 3, 3, 4, 1), Nd4j.rand(DataType.DOUBLE, 4, 4)));
        assertTrue(withOneByOne.getMessage().contains("no 1x1 kernel"), withOneByOne.getMessage());
    }
}
