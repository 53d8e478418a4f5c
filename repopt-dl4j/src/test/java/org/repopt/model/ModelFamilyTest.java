package org.repopt.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.repopt.gr.GradMultHook;
import org.repopt.gr.RepOptimizer;
import org.repopt.gr.ScalesFile;
import org.repopt.testing.TinySpecs;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The three families built from one spec: deploy fusion, scales fitting, serialization. */
class ModelFamilyTest {

    private final VggSpec tiny = TinySpecs.tiny();

    @Test
    void repVggDeployEqualsTheTrainedGraph() {
        RepVgg model = RepVgg.builder(tiny).dataType(DataType.DOUBLE).seed(3).build();
        ComputationGraph trained = RepOptimizer.baselineSgd().learningRate(0.05).applyTo(model.conf());
        for (int step = 0; step < 5; step++) {
            trained.fit(TinySpecs.batch(tiny, 8, step, DataType.DOUBLE));
        }
        INDArray before = trained.params().dup();
        ComputationGraph deployed = model.deploy(trained);
        assertEquals(before, trained.params(), "deploy() must not change its input");
        assertTrue(tiny.blocks().stream().anyMatch(BlockSpec::hasIdentity), "the spec has identity blocks");
        INDArray x = TinySpecs.batch(tiny, 7, 99, DataType.DOUBLE).getFeatures();
        INDArray expected = trained.outputSingle(false, x);
        INDArray actual = deployed.outputSingle(false, x);
        double diff = expected.sub(actual).amaxNumber().doubleValue();
        assertTrue(diff <= 1e-9, "max |output difference| " + diff);
        assertEquals(ModelStats.of(FusedVgg.builder(tiny).build()).trainableParams(), deployed.numParams());
    }

    @Test
    void releasedB1ScalesFitB1AndEveryBlockGetsAGradMult() {
        RepOptVgg b1 = RepOptVgg.builder(VggSpec.of(Variant.B1)).build();
        ScalesFile scales = ScalesFile.released("B1");
        b1.spec().requireMatches(scales.blocks(), b1.displayName());
        ComputationGraphConfiguration conf = RepOptimizer.sgd(scales).mapByName(b1.convOfBlock()).configure(b1.conf());
        for (BlockSpec b : b1.spec().blocks()) {
            BaseLayer conv = (BaseLayer) ((LayerVertex) conf.getVertices().get(LayerNames.conv(b.name())))
                    .getLayerConf().getLayer();
            GradMultHook hook = (GradMultHook) conv.getRegularization().get(0);
            assertEquals(b.name(), hook.scales().block());
        }
        assertEquals(28, b1.spec().blocks().size());
    }

    @Test
    void l1ScalesAreRefusedForB1NamingTheFirstMismatchingBlock() {
        RepOptVgg b1 = RepOptVgg.builder(VggSpec.of(Variant.B1)).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> b1.init(RepOptimizer.sgd(ScalesFile.released("L1"))));
        assertTrue(e.getMessage().contains("RepOpt-VGG-B1") && e.getMessage().contains("stage2.0 (128->256, stride 2)")
                && e.getMessage().contains("stage1.4 (128->128, stride 1)"), e.getMessage());
    }

    @Test
    void hyperSearchExportRoundTripsThroughAScalesFile(@TempDir Path dir) throws IOException {
        CslaVgg hs = CslaVgg.builder(tiny).dataType(DataType.DOUBLE).build();
        ComputationGraph net = RepOptimizer.baselineSgd().learningRate(0.05).applyTo(hs.conf());
        for (int step = 0; step < 3; step++) {
            net.fit(TinySpecs.batch(tiny, 8, step, DataType.DOUBLE));
        }
        ScalesFile exported = hs.exportScales(net, "unit test");
        Path f = dir.resolve("searched.json");
        exported.write(f);
        ScalesFile back = ScalesFile.read(f);
        assertEquals(exported.blocks(), back.blocks());
        assertTrue(exported.blocks().get(2).scaleConv()[0] != Math.sqrt(2.0), "scales moved during the search");
        ComputationGraph target = RepOptVgg.builder(tiny).dataType(DataType.DOUBLE).build()
                .init(RepOptimizer.sgd(back).learningRate(0.05));
        target.fit(TinySpecs.batch(tiny, 8, 5, DataType.DOUBLE));
    }

    @Test
    void readingAPlainNetworkAsACslaNetworkNamesTheMissingLayer() {
        CslaVgg hs = CslaVgg.builder(tiny).build();
        ComputationGraph plain = RepOptVgg.builder(tiny).build().init();
        String expected = "the network has no layer '" + LayerNames.scaleConv(tiny.blocks().get(0).name())
                + "': not a Hyper-Search network of this architecture";
        assertEquals(expected, assertThrows(IllegalArgumentException.class,
                () -> hs.exportScales(plain, null)).getMessage());
        assertEquals(expected, assertThrows(IllegalArgumentException.class,
                () -> hs.equivalentKernels(plain)).getMessage());
    }

    @Test
    void searchModeStartsAtThePapersScales() {
        ComputationGraph net = CslaVgg.builder(tiny).build().init();
        assertEquals(1.0, net.getLayer(LayerNames.scaleConv("stage1.0")).getParam("scale").getDouble(0), 0);
        assertEquals(Math.sqrt(2.0), net.getLayer(LayerNames.scale1x1("stage1.1")).getParam("scale").getDouble(0), 1e-7);
        assertEquals(1.0, net.getLayer(LayerNames.scaleIdentity("stage1.1")).getParam("scale").getDouble(0), 0);
    }

    @Test
    void everyFamilyRoundTripsThroughJsonAndModelSerializer(@TempDir Path dir) throws IOException {
        List<VggModel> models = List.of(RepOptVgg.builder(tiny).build(), RepVgg.builder(tiny).build(),
                CslaVgg.builder(tiny).build(), CslaVgg.builder(tiny)
                        .csla(TinySpecs.randomScales(tiny, 2)).build(), FusedVgg.builder(tiny).build());
        for (VggModel m : models) {
            ComputationGraphConfiguration conf = m.conf();
            assertEquals(conf, ComputationGraphConfiguration.fromJson(conf.toJson()), m.displayName());
            ComputationGraph net = RepOptimizer.baselineSgd().applyTo(conf);
            net.fit(TinySpecs.batch(tiny, 4, 1, DataType.FLOAT));
            File f = dir.resolve(m.family() + ".zip").toFile();
            ModelSerializer.writeModel(net, f, true);
            ComputationGraph back = ModelSerializer.restoreComputationGraph(f, true);
            assertNotSame(net, back);
            assertEquals(net.getConfiguration(), back.getConfiguration(), m.displayName());
            assertEquals(net.params(), back.params(), m.displayName());
        }
    }
}
