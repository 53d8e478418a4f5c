package org.repopt.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.repopt.gr.BlockScales;
import org.repopt.gr.RepOptimizer;
import org.repopt.nn.ChannelScaleParamInitializer;
import org.repopt.testing.GhostNets;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The RepOpt-GhostNet family: sizes of the reference, the three modes, training shapes, serialization. */
class RepOptGhostNetTest {

    private static final String SCALE = ChannelScaleParamInitializer.SCALE_KEY;

    /** Parameter counts of the reference model ({@code sum(p.numel() for p in model.parameters())}, 1000 classes). */
    @ParameterizedTest(name = "RepOptGhostNet-{0}x target: {1} parameters")
    @CsvSource({"0.5, 2309008", "0.25, 1704752", "0.58, 2540620", "1.0, 4063716", "1.3, 5465748", "2.0, 9776348"})
    void targetParametersEqualTheReference(double width, long params) {
        assertEquals(params, ModelStats.of(RepOptGhostNet.builder(GhostNetSpec.of(width)).build()).trainableParams());
    }

    @Test
    void hyperSearchAndCslaParametersEqualTheReference() {
        GhostNetSpec half = GhostNetSpec.of(0.5);
        assertEquals(2_313_968, ModelStats.of(RepOptGhostNet.builder(half).search().build()).trainableParams());
        // CSLA: the cheap scales are constants (requires_grad False in the reference), the fusion scales are trained
        RepOptGhostNet csla = RepOptGhostNet.builder(half).csla(GhostNets.randomScales(half, 1)).build();
        assertEquals(2_311_488, ModelStats.of(csla).trainableParams());
        assertEquals("RepOptGhostNet-CSLA-0.5x", csla.displayName());
    }

    /** Multiply-accumulates of the reference model's convs and linear layer at 224x224 (forward hooks). */
    @ParameterizedTest(name = "RepOptGhostNet-{0}x: {1} MACs at 224x224")
    @CsvSource({"0.5, 43314720", "1.0, 142394128"})
    void macsEqualTheReference(double width, long macs) {
        assertEquals(macs, ModelStats.of(RepOptGhostNet.builder(GhostNetSpec.of(width)).build()).multiplyAccumulates());
    }

    @Test
    void halfWidthTrainsOnFashionMnistAndCifarShapesInEveryMode() {
        GhostNetSpec fashion = GhostNetSpec.of(0.5).withInput(1, 28, 28).withClasses(10);
        GhostNetSpec cifar = GhostNetSpec.of(0.5).withInput(3, 32, 32).withClasses(100);
        List<RepOptGhostNet> models = List.of(RepOptGhostNet.builder(fashion).build(),
                RepOptGhostNet.builder(fashion).search().build(),
                RepOptGhostNet.builder(fashion).csla(GhostNets.randomScales(fashion, 4)).build(),
                RepOptGhostNet.builder(cifar).build());
        for (RepOptGhostNet m : models) {
            ComputationGraph net = RepOptimizer.baselineSgd().learningRate(0.01).applyTo(m.conf());
            DataSet batch = GhostNets.batch(m.spec(), 4, 1, DataType.FLOAT);
            INDArray before = net.params().dup();
            net.fit(batch);
            assertTrue(Double.isFinite(net.score()), m.displayName() + " " + m.spec().inputShape());
            assertNotEquals(before, net.params(), m.displayName() + " trained");
            INDArray out = net.outputSingle(false, batch.getFeatures());
            assertArrayEquals(new long[]{4, m.spec().numClasses()}, out.shape());
        }
    }

    @Test
    void everyModeRoundTripsThroughJsonAndModelSerializer(@TempDir Path dir) throws IOException {
        GhostNetSpec tiny = GhostNets.tiny();
        ComputationGraphConfiguration withDropout = RepOptGhostNet.builder(tiny.withDropout(0.2)).build().conf();
        assertEquals(withDropout, ComputationGraphConfiguration.fromJson(withDropout.toJson()), "dropout 0.2");
        List<RepOptGhostNet> models = List.of(RepOptGhostNet.builder(tiny).build(),
                RepOptGhostNet.builder(tiny).search().build(),
                RepOptGhostNet.builder(tiny).csla(GhostNets.randomScales(tiny, 2)).build());
        for (RepOptGhostNet m : models) {
            ComputationGraphConfiguration conf = m.conf();
            assertEquals(conf, ComputationGraphConfiguration.fromJson(conf.toJson()), m.displayName());
            ComputationGraph net = RepOptimizer.baselineSgd().learningRate(0.01).applyTo(conf);
            net.fit(GhostNets.batch(tiny, 4, 1, DataType.FLOAT));
            File f = dir.resolve(m.family() + ".zip").toFile();
            ModelSerializer.writeModel(net, f, true);
            ComputationGraph back = ModelSerializer.restoreComputationGraph(f, true);
            assertEquals(net.getConfiguration(), back.getConfiguration(), m.displayName());
            assertEquals(net.params(), back.params(), m.displayName());
            INDArray x = GhostNets.batch(tiny, 3, 9, DataType.FLOAT).getFeatures();
            INDArray y = net.outputSingle(false, x);
            assertFalse(y.isNaN().any() || y.isInfinite().any(), m.displayName());
            assertEquals(y, back.outputSingle(false, x), m.displayName());
        }
    }

    @Test
    void noVertexNameIsAPrefixOfAnother() {
        GhostNetSpec tiny = GhostNets.tiny();
        for (RepOptGhostNet m : List.of(RepOptGhostNet.builder(tiny).build(), RepOptGhostNet.builder(tiny).search().build())) {
            List<String> names = new ArrayList<>(m.conf().getVertices().keySet());
            for (String a : names) {
                for (String b : names) {
                    assertTrue(a.equals(b) || !a.startsWith(b), m.displayName() + ": '" + b + "' is a prefix of '" + a
                            + "' (DL4J's UI would mix their histograms)");
                }
            }
        }
    }

    @Test
    void searchModeStartsAtTheReferenceScales() {
        ComputationGraph net = RepOptGhostNet.builder(GhostNetSpec.of(0.5).withInput(3, 32, 32).withClasses(100))
                .search().build().init();
        assertEquals(Math.sqrt(2.0 / 11), net.getLayer(LayerNames.scaleConv("blocks.8.3.ghost2")).getParam(SCALE)
                .getDouble(0), 1e-7);
        assertEquals(1.0, net.getLayer(LayerNames.scaleConv("blocks.0.0.ghost1")).getParam(SCALE).getDouble(3), 0);
        assertEquals(1.0, net.getLayer(LayerNames.scaleIdentity("blocks.8.3.ghost2")).getParam(SCALE).getDouble(79), 0);
    }

    @Test
    void initialScalesAreTheSearchModesStartAndOnlyTheTargetTakesARepOptimizer() {
        GhostNetSpec half = GhostNetSpec.of(0.5);
        List<BlockScales> initial = RepOptGhostNet.initialScales(half);
        half.requireMatches(initial, "RepOptGhostNet-0.5x");
        BlockScales last = initial.get(31);
        assertEquals(Math.sqrt(2.0 / 11), last.scaleConv()[79], 1e-15);
        assertEquals(1.0, last.scaleIdentity()[0], 0);
        RepOptimizer.Builder opt = RepOptimizer.sgd(initial);
        IllegalStateException hs = assertThrows(IllegalStateException.class,
                () -> RepOptGhostNet.builder(half).search().build().init(opt));
        assertTrue(hs.getMessage().contains("RepOptGhostNet-HS-0.5x"), hs.getMessage());
        IllegalArgumentException other = assertThrows(IllegalArgumentException.class,
                () -> RepOptGhostNet.builder(GhostNetSpec.of(1.0)).build().init(opt));
        assertTrue(other.getMessage().contains("scales do not fit RepOptGhostNet-1.0x"), other.getMessage());
    }

    @Test
    void cslaKeepsItsCheapScalesAndTrainsItsFusionScales() {
        GhostNetSpec tiny = GhostNets.tiny();
        List<BlockScales> scales = GhostNets.randomScales(tiny, 3);
        RepOptGhostNet csla = RepOptGhostNet.builder(tiny).csla(scales).dataType(DataType.DOUBLE).build();
        ComputationGraph net = RepOptimizer.baselineSgd().learningRate(0.1).applyTo(csla.conf());
        String module = tiny.modules().get(5).name();
        assertArrayEquals(scales.get(5).scaleConv(),
                net.getLayer(LayerNames.scaleConv(module)).getParam(SCALE).toDoubleVector(), 0);
        assertArrayEquals(scales.get(5).scaleIdentity(),
                net.getLayer(LayerNames.scaleIdentity(module)).getParam(SCALE).toDoubleVector(), 0);
        INDArray cheapBefore = net.getLayer(LayerNames.cheapConv(module)).getParam("W").dup();
        for (int step = 0; step < 2; step++) {
            net.fit(GhostNets.batch(tiny, 4, step, DataType.DOUBLE));
        }
        assertArrayEquals(scales.get(5).scaleConv(),
                net.getLayer(LayerNames.scaleConv(module)).getParam(SCALE).toDoubleVector(), 0, "constant");
        assertFalse(java.util.Arrays.equals(scales.get(5).scaleIdentity(),
                net.getLayer(LayerNames.scaleIdentity(module)).getParam(SCALE).toDoubleVector()), "trained");
        assertNotEquals(cheapBefore, net.getLayer(LayerNames.cheapConv(module)).getParam("W"), "trained");
    }

    /** The CSLA twin and the target started at its equivalent kernels compute the same function (train and test). */
    @Test
    void targetAtTheEquivalentKernelsComputesItsCslaTwin() {
        GhostNetSpec tiny = GhostNets.tiny();
        ComputationGraph csla = RepOptGhostNet.builder(tiny).csla(GhostNets.randomScales(tiny, 8))
                .dataType(DataType.DOUBLE).seed(2).build().init();
        ComputationGraph target = RepOptGhostNet.builder(tiny).dataType(DataType.DOUBLE).seed(3).build().init();
        INDArray x = GhostNets.batch(tiny, 5, 4, DataType.DOUBLE).getFeatures();
        GhostNets.startFrom(target, csla, tiny, false);
        double rawGap = csla.output(true, x)[0].sub(target.output(true, x)[0]).amaxNumber().doubleValue();
        assertTrue(rawGap > 1e-3, "the raw kernels alone are not the CSLA function: " + rawGap);
        GhostNets.startFrom(target, csla, tiny, true);
        for (boolean train : new boolean[]{true, false}) {
            INDArray expected = csla.output(train, x)[0];
            double gap = expected.sub(target.output(train, x)[0]).amaxNumber().doubleValue();
            assertTrue(gap <= 1e-12, (train ? "train" : "test") + " mode: max |probability difference| " + gap);
        }
    }

    @Test
    void depthwiseConvsHaveNoBiasAndStartFromTheDepthwiseFanIn() {
        RepOptGhostNet model = RepOptGhostNet.builder(GhostNetSpec.of(0.5).withInput(3, 32, 32)).build();
        ComputationGraphConfiguration conf = model.conf();
        int depthwise = 0;
        for (var v : conf.getVertices().values()) {
            if (v instanceof LayerVertex && ((LayerVertex) v).getLayerConf().getLayer() instanceof DepthwiseConvolution2D) {
                DepthwiseConvolution2D dw = (DepthwiseConvolution2D) ((LayerVertex) v).getLayerConf().getLayer();
                assertFalse(dw.hasBias(), dw.getLayerName());
                assertEquals(dw.getNIn(), dw.getNOut(), dw.getLayerName());
                depthwise++;
            }
        }
        assertEquals(32 + 4 + 5, depthwise, "32 cheap operations, 4 stride-2 depthwise convs, 5 projecting shortcuts");
        assertEquals(model.cheapConvOfModule().size(), 32);
        assertEquals(LayerNames.cheapConv("blocks.8.3.ghost2"), model.cheapConvOfModule().get("blocks.8.3.ghost2"));
        INDArray w = model.init().getLayer(LayerNames.cheapConv("blocks.8.0.ghost1")).getParam("W");
        assertArrayEquals(new long[]{3, 3, 240, 1}, w.shape(), "DL4J's depthwise layout [kH, kW, C, 1]");
        double std = w.stdNumber().doubleValue();
        assertEquals(Math.sqrt(2.0 / 9), std, 0.1 * Math.sqrt(2.0 / 9), "He init with fan-in 3*3");
    }

    @Test
    void cslaScalesThatDoNotFitAreRefused() {
        GhostNetSpec tiny = GhostNets.tiny();
        List<BlockScales> scales = new ArrayList<>(GhostNets.randomScales(tiny, 5));
        scales.remove(scales.size() - 1);
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                () -> RepOptGhostNet.builder(tiny).csla(scales).build());
        assertTrue(count.getMessage().contains("RepOptGhostNet-CSLA-0.25x"), count.getMessage());
        List<BlockScales> withOneByOne = new ArrayList<>(GhostNets.randomScales(tiny, 5));
        BlockScales first = withOneByOne.get(0);
        double[] ones = new double[first.outChannels()];
        java.util.Arrays.fill(ones, 1.0);
        withOneByOne.set(0, new BlockScales(first.block(), first.inChannels(), first.outChannels(), 1,
                first.scaleConv(), ones, first.scaleIdentity()));
        IllegalArgumentException oneByOne = assertThrows(IllegalArgumentException.class,
                () -> RepOptGhostNet.builder(tiny).csla(withOneByOne).build());
        assertTrue(oneByOne.getMessage().contains("blocks.0.0.ghost1") && oneByOne.getMessage().contains("depthwise")
                && oneByOne.getMessage().contains("no 1x1 branch"), oneByOne.getMessage());
    }

    /**
     * {@link RepOptGhostNet#init(RepOptimizer.Builder)} starts each cheap depthwise kernel where its CSLA module starts
     * (Rule of Initialization: {@code scale_conv[c] * W + scale_identity[c]} at the centre tap, in DL4J's
     * {@code [3, 3, C, 1]} layout) and every other parameter where the plain network of the same seed starts.
     */
    @Test
    void initStartsEveryCheapKernelAtItsCslaModulesKernel() {
        GhostNetSpec tiny = GhostNets.tiny();
        List<BlockScales> scales = GhostNets.randomScales(tiny, 9);
        RepOptGhostNet model = RepOptGhostNet.builder(tiny).dataType(DataType.DOUBLE).seed(3).build();
        ComputationGraph plain = RepOptimizer.baselineSgd().applyTo(model.conf());
        ComputationGraph net = model.init(RepOptimizer.sgd(scales));
        for (org.deeplearning4j.nn.api.Layer l : net.getLayers()) {
            String name = l.conf().getLayer().getLayerName();
            for (java.util.Map.Entry<String, INDArray> p : l.paramTable().entrySet()) {
                INDArray raw = plain.getLayer(name).getParam(p.getKey());
                GhostModuleSpec module = tiny.modules().stream().filter(m -> LayerNames.cheapConv(m.name()).equals(name))
                        .findFirst().orElse(null);
                if (module == null) {
                    assertEquals(raw, p.getValue(), name + " " + p.getKey() + " as the plain network's");
                    continue;
                }
                BlockScales s = scales.get(tiny.modules().indexOf(module));
                INDArray w = p.getValue();
                for (int c = 0; c < module.channels(); c++) {
                    for (int i = 0; i < 3; i++) {
                        for (int j = 0; j < 3; j++) {
                            double expected = s.scaleConv()[c] * raw.getDouble(i, j, c, 0)
                                    + (i == 1 && j == 1 ? s.scaleIdentity()[c] : 0);
                            assertEquals(expected, w.getDouble(i, j, c, 0), 1e-12 * Math.max(1, Math.abs(expected)),
                                    name + " [" + i + "," + j + "," + c + ",0]");
                        }
                    }
                }
            }
        }
    }
}
