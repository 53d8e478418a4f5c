package org.repopt.gr;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.AdaGrad;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.repopt.model.LayerNames;
import org.repopt.model.RepOptVgg;
import org.repopt.model.VggSpec;
import org.repopt.testing.TinySpecs;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Mapping scales onto a user's graph: by forward order, by name, and every refusal. */
class ScaleAssignmentTest {

    private final VggSpec spec = TinySpecs.tiny();
    private final List<BlockScales> scales = TinySpecs.randomScales(spec, 1);

    /** A user's own two-block VGG: conv -> BN -> ReLU, with the given first-conv settings. */
    private static ComputationGraphConfiguration userGraph(ConvolutionMode mode, int padding, boolean bnAfterFirst) {
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE)
                .graphBuilder().addInputs("x")
                .addLayer("c1", new ConvolutionLayer.Builder(3, 3).stride(2, 2).padding(padding, padding)
                        .convolutionMode(mode).nOut(4).hasBias(false).activation(Activation.IDENTITY).build(), "x");
        String after1 = "c1";
        if (bnAfterFirst) {
            g.addLayer("n1", new BatchNormalization.Builder().build(), "c1");
            after1 = "n1";
        }
        return g.addLayer("r1", new ActivationLayer(Activation.RELU), after1)
                .addLayer("c2", new ConvolutionLayer.Builder(3, 3).stride(1, 1).padding(1, 1)
                        .convolutionMode(ConvolutionMode.Truncate).nOut(4).hasBias(false)
                        .activation(Activation.IDENTITY).build(), "r1")
                .addLayer("n2", new BatchNormalization.Builder().build(), "c2")
                .addLayer("r2", new ActivationLayer(Activation.RELU), "n2")
                .addLayer("p", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "r2")
                .addLayer("o", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "p")
                .setOutputs("o").setInputTypes(InputType.convolutional(8, 8, 3)).build();
    }

    private static List<BlockScales> twoBlocks() {
        double[] s = {1, 2, 3, 4};
        return List.of(new BlockScales("a", 3, 4, 2, s, s, null), new BlockScales("b", 4, 4, 1, s, s, s));
    }

    @Test
    void forwardOrderAndNamesAgree() {
        ComputationGraphConfiguration conf = userGraph(ConvolutionMode.Truncate, 1, true);
        ScaleAssignment byOrder = ScaleAssignment.byForwardOrder(conf, twoBlocks());
        ScaleAssignment byName = ScaleAssignment.byName(conf, twoBlocks(), Map.of("a", "c1", "b", "c2"));
        assertEquals(byOrder, byName);
        assertEquals(List.of("c1", "c2"), List.copyOf(byOrder.byLayer().keySet()));
    }

    @Test
    void theUsersGraphTrainsAfterTheOneLineSwitch() {
        var net = RepOptimizer.sgd(twoBlocks()).learningRate(0.01).momentum(0.9).weightDecay(1e-4)
                .applyTo(userGraph(ConvolutionMode.Truncate, 1, true));
        net.fit(TinySpecs.batch(VggSpec.builder("u").input(3, 8, 8).classes(3).stem(4, 2).stage(1, 4, 1).build(),
                4, 1, DataType.DOUBLE));
        assertEquals(1, net.getConfiguration().getIterationCount());
    }

    @Test
    void wrongBlockCount() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ScaleAssignment.byForwardOrder(userGraph(ConvolutionMode.Truncate, 1, true), scales));
        assertTrue(e.getMessage().contains(scales.size() + " blocks") && e.getMessage().contains("2 GR sites [c1, c2]"),
                e.getMessage());
    }

    @Test
    void wrongChannels() {
        double[] s = {1, 2, 3, 4, 5};
        List<BlockScales> five = List.of(new BlockScales("a", 3, 5, 2, s, s, null),
                new BlockScales("b", 5, 5, 1, s, s, s));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ScaleAssignment.byForwardOrder(userGraph(ConvolutionMode.Truncate, 1, true), five));
        assertTrue(e.getMessage().contains("block a (layer 'c1')") && e.getMessage().contains("3->5")
                && e.getMessage().contains("3->4"), e.getMessage());
    }

    @Test
    void samePaddingAtStrideTwoIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ScaleAssignment.byForwardOrder(userGraph(ConvolutionMode.Same, 0, true), twoBlocks()));
        assertTrue(e.getMessage().contains("layer 'c1'") && e.getMessage().contains("padding(1, 1)")
                && e.getMessage().contains("Same pads asymmetrically at stride 2"), e.getMessage());
    }

    @Test
    void convNotFollowedByBatchNormIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ScaleAssignment.byForwardOrder(userGraph(ConvolutionMode.Truncate, 1, false), twoBlocks()));
        assertTrue(e.getMessage().contains("layer 'c1'") && e.getMessage().contains("BatchNormalization"),
                e.getMessage());
    }

    @Test
    void unknownLayerName() {
        Map<String, String> names = new HashMap<>(Map.of("a", "c1", "b", "nope"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ScaleAssignment.byName(
                userGraph(ConvolutionMode.Truncate, 1, true), twoBlocks(), names));
        assertTrue(e.getMessage().contains("no layer named 'nope'"), e.getMessage());
    }

    @Test
    void gradientNormalizationIsRefused() {
        ComputationGraphConfiguration conf = userGraph(ConvolutionMode.Truncate, 1, true);
        ((org.deeplearning4j.nn.conf.layers.BaseLayer) ((org.deeplearning4j.nn.conf.graph.LayerVertex) conf
                .getVertices().get("c2")).getLayerConf().getLayer())
                .setGradientNormalization(GradientNormalization.ClipElementWiseAbsoluteValue);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RepOptimizer.sgd(twoBlocks()).configure(conf));
        assertTrue(e.getMessage().contains("'c2'") && e.getMessage().contains("breaks"), e.getMessage());
    }

    @Test
    void updatersThatBreakTheEquivalenceAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RepOptimizer.sgd(twoBlocks()).updater(new AdaGrad(0.1)));
        assertTrue(e.getMessage().contains("AdaGrad"), e.getMessage());
    }

    @Test
    void scalesOfAnotherArchitectureAreRefusedByTheModel() {
        List<BlockScales> other = TinySpecs.randomScales(
                VggSpec.builder("tiny").input(3, 8, 8).classes(3).stem(4, 2).stage(3, 6, 2).build(), 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RepOptVgg.builder(spec).build().init(RepOptimizer.sgd(other)));
        assertTrue(e.getMessage().contains("block 3 is stage2.0") && e.getMessage().contains("stage1.2"),
                e.getMessage());
    }

    @Test
    void weightDecayFollowsThePapersRule() {
        ComputationGraphConfiguration conf = RepOptimizer.sgd(scales).weightDecay(1e-3)
                .mapByName(RepOptVgg.builder(spec).build().convOfBlock())
                .configure(RepOptVgg.builder(spec).build().conf());
        var layers = conf.getVertices();
        var conv = (ConvolutionLayer) ((org.deeplearning4j.nn.conf.graph.LayerVertex) layers
                .get(LayerNames.conv("stage0"))).getLayerConf().getLayer();
        // one hook carrying the L2 term, d = G * M + wd * W inside TorchSgd's step, and the check that the step took it
        assertEquals(List.of(GradMultHook.sgdInTorchSgdStep(scales.get(0), 1e-3),
                new GradMultStepCheck(scales.get(0).block())),
                conv.getRegularization());
        var bn = (BatchNormalization) ((org.deeplearning4j.nn.conf.graph.LayerVertex) layers
                .get(LayerNames.bn("stage0"))).getLayerConf().getLayer();
        assertTrue(bn.getRegularization().isEmpty() && bn.getRegularizationBias().isEmpty());
        var out = (OutputLayer) ((org.deeplearning4j.nn.conf.graph.LayerVertex) layers.get(LayerNames.LINEAR))
                .getLayerConf().getLayer();
        assertEquals(1, out.getRegularization().size());
        assertTrue(out.getRegularizationBias().isEmpty());
    }

    @Test
    void aNetworkWithoutAnyGrSiteIsOneLine() {
        ComputationGraphConfiguration noSite = new NeuralNetConfiguration.Builder().graphBuilder().addInputs("x")
                .addLayer("c", new ConvolutionLayer.Builder(3, 3).padding(1, 1).nOut(4)
                        .activation(Activation.IDENTITY).build(), "x")
                .addLayer("p", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "c")
                .addLayer("o", new OutputLayer.Builder().nOut(2).build(), "p")
                .setOutputs("o").setInputTypes(InputType.convolutional(6, 6, 1)).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RepOptimizer.sgd(twoBlocks()).applyTo(noSite));
        assertFalse(e.getMessage().contains("\n"));
        assertTrue(e.getMessage().contains("no GR site") && e.getMessage().contains("c: ConvolutionLayer, not a GR site: "
                + "feeds 'p' (GlobalPoolingLayer), expected a BatchNormalization"), e.getMessage());
    }

    @Test
    void scalesForOtherLayerNamesListBothNames() {
        double[] s = {1, 2, 3, 4};
        List<BlockScales> other = List.of(new BlockScales("stage0", 3, 4, 2, s, s, null),
                new BlockScales("stage1.0", 4, 4, 1, s, s, s));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RepOptimizer.sgd(other)
                .mapByBlockName().applyTo(userGraph(ConvolutionMode.Truncate, 1, true)));
        assertTrue(e.getMessage().contains("[stage0, stage1.0]") && e.getMessage().contains("GR sites are [c1, c2]"),
                e.getMessage());
        List<BlockScales> named = List.of(twoBlocks().get(0).renamed("c1"), twoBlocks().get(1).renamed("c2"));
        assertEquals(List.of("c1", "c2"), List.copyOf(ScaleAssignment.byBlockName(
                userGraph(ConvolutionMode.Truncate, 1, true), named).byLayer().keySet()));
    }

    @Test
    void aLayerThatIsNotAConvIsNamedWithWhatItIs() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ScaleAssignment.byName(
                userGraph(ConvolutionMode.Truncate, 1, true), twoBlocks(), Map.of("a", "c1", "b", "n2")));
        assertTrue(e.getMessage().contains("block b (layer 'n2'): is a BatchNormalization, not a conv layer")
                && e.getMessage().contains("[c1, c2]"), e.getMessage());
    }

    private static ComputationGraphConfiguration depthwiseGraph(boolean bias) {
        return new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE).graphBuilder().addInputs("x")
                .addLayer("dw", new DepthwiseConvolution2D.Builder(3, 3).padding(1, 1).hasBias(bias)
                        .convolutionMode(ConvolutionMode.Truncate).activation(Activation.IDENTITY).build(), "x")
                .addLayer("bn", new BatchNormalization.Builder().build(), "dw")
                .addLayer("p", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "bn")
                .addLayer("o", new OutputLayer.Builder().nOut(2).build(), "p")
                .setOutputs("o").setInputTypes(InputType.convolutional(6, 6, 4)).build();
    }

    @Test
    void depthwiseSitesTakeDepthwiseScalesOnly() {
        double[] s = {1, 2, 3, 4};
        BlockScales dw = BlockScales.depthwise("dw", 4, 1, 3, s, s);
        ScaleAssignment ok = ScaleAssignment.byBlockName(depthwiseGraph(false), List.of(dw));
        assertTrue(ok.siteOf("dw").depthwise());
        IllegalArgumentException bias = assertThrows(IllegalArgumentException.class,
                () -> ScaleAssignment.byBlockName(depthwiseGraph(true), List.of(dw)));
        assertTrue(bias.getMessage().contains("dw: DepthwiseConvolution2D, not a GR site")
                && bias.getMessage().contains("hasBias(false)"), bias.getMessage());
        IllegalArgumentException dense = assertThrows(IllegalArgumentException.class,
                () -> ScaleAssignment.byBlockName(depthwiseGraph(false), List.of(new BlockScales("dw", 4, 4, 1, s, s, s))));
        assertTrue(dense.getMessage().contains("scales are for groups 1 (a dense conv), the layer is a "
                + "DepthwiseConvolution2D (groups 4 (depthwise))"), dense.getMessage());
        IllegalArgumentException kernel = assertThrows(IllegalArgumentException.class,
                () -> ScaleAssignment.byBlockName(depthwiseGraph(false), List.of(BlockScales.depthwise("dw", 4, 1, 5, s, s))));
        assertTrue(kernel.getMessage().contains("scales are for a 5x5 kernel, the conv has 3x3"), kernel.getMessage());
    }

    @Test
    void aMultiLayerConfigurationIsAssignedByItsLayerNames() {
        double[] s = {1, 2, 3, 4};
        MultiLayerConfiguration conf = GrSitesTest.userMultiLayer();
        List<BlockScales> blocks = List.of(new BlockScales("a", 2, 4, 1, s, s, null), new BlockScales("b", 4, 4, 1, s, s, s));
        assertEquals(List.of("layer0", "second"),
                List.copyOf(ScaleAssignment.byForwardOrder(conf, blocks).byLayer().keySet()));
    }

    @Test
    void hyperParametersAreCheckedWhenSetNotWhenApplied() {
        RepOptimizer.Builder sgd = RepOptimizer.sgd(twoBlocks());
        for (double m : new double[]{-0.1, 1.0, Double.NaN}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> sgd.momentum(m));
            assertEquals("momentum must be in [0, 1), got " + m, e.getMessage());
        }
        RepOptimizer.Builder adamw = RepOptimizer.adamw(twoBlocks());
        IllegalArgumentException betas = assertThrows(IllegalArgumentException.class, () -> adamw.betas(0.9, 1.0));
        assertEquals("beta1 and beta2 must be in [0, 1), got 0.9 and 1.0", betas.getMessage());
        assertThrows(IllegalArgumentException.class, () -> adamw.betas(-0.5, 0.999));
        for (double eps : new double[]{0, -1e-8, Double.POSITIVE_INFINITY, Double.NaN}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> adamw.epsilon(eps));
            assertEquals("epsilon must be finite and > 0, got " + eps, e.getMessage());
        }
        sgd.momentum(0).nesterov(false).momentum(0.5);
        adamw.betas(0, 0.5).epsilon(1e-12);
    }

    /** A fused conv-BN-ReLU layer is a GR site in place: the one line on it equals the one line on its three layers. */
    @Test
    void fusedLayersAreSitesInPlace() {
        List<BlockScales> blocks = twoBlocks();
        ComputationGraphConfiguration conf = org.repopt.testing.TinyNets.plain(blocks, 3, 8, 8, DataType.DOUBLE, 5);
        ComputationGraphConfiguration fusedConf = org.repopt.nn.ConvBnReluFusion.fuse(conf);
        GrSites sites = GrSites.find(fusedConf);
        assertEquals(List.of("conv0", "conv1"), sites.siteNames());
        assertEquals(GrSite.Kind.FUSED_CONV_BN_RELU, sites.site("conv0").orElseThrow().kind());
        assertEquals(ScaleAssignment.byForwardOrder(conf, blocks), ScaleAssignment.byForwardOrder(fusedConf, blocks));

        var split = new org.deeplearning4j.nn.graph.ComputationGraph(conf);
        split.init();
        var fused = org.repopt.nn.ConvBnReluFusion.fuse(split);
        RepOptimizer.Builder opt = RepOptimizer.sgd(blocks).learningRate(0.05).seed(3);
        var fromSplit = opt.applyTo(split);
        var fromFused = opt.applyTo(fused);
        assertEquals(fromSplit.params(), fromFused.params(), "same Rule of Initialization");
        assertEquals(List.of("conv0", "conv1"), org.repopt.nn.ConvBnReluFusion.fusedLayers(fromFused.getConfiguration()));
        var batch = TinySpecs.batch(VggSpec.builder("u").input(3, 8, 8).classes(3).stem(4, 2).stage(1, 4, 1).build(),
                4, 1, DataType.DOUBLE);
        fromSplit.fit(batch);
        fromFused.fit(batch);
        assertTrue(fromSplit.params().sub(fromFused.params()).amaxNumber().doubleValue() < 1e-12,
                "one step trains alike");
        IllegalStateException trained = assertThrows(IllegalStateException.class, () -> opt.applyTo(fromFused));
        assertTrue(trained.getMessage().contains("refusing to re-initialize"), trained.getMessage());
    }
}
