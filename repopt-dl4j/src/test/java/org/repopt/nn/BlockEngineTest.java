package org.repopt.nn;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.repopt.backend.OneDnn;
import org.repopt.gr.GradMultHook;
import org.repopt.gr.GradMultStepCheck;
import org.repopt.gr.RepOptimizer;
import org.repopt.model.LayerNames;
import org.repopt.model.RepOptVgg;
import org.repopt.model.VggSpec;
import org.repopt.quant.BnFolding;
import org.repopt.testing.TinySpecs;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The builders' engine choice: which form a network takes, and that the form changes nothing else. */
class BlockEngineTest {

    private final VggSpec spec = TinySpecs.tiny();

    @Test
    void defaultIsOneDnnForFloatOnTheCpuWithDnnlAndDl4jOtherwise() {
        assertEquals(BlockEngine.DL4J, BlockEngine.defaultFor(DataType.DOUBLE));
        assertEquals(OneDnn.available() ? BlockEngine.ONEDNN : BlockEngine.DL4J, BlockEngine.defaultFor(DataType.FLOAT));
        assertEquals(BlockEngine.ONEDNN, BlockEngine.parse("oneDNN"));
        assertEquals("dl4j", BlockEngine.DL4J.cliName());
    }

    @Test
    void repOptVggTrainsTheSameInBothFormsWithGradMultOnTheFusedKernels() {
        Assumptions.assumeTrue(OneDnn.available(), () -> "oneDNN not present: " + OneDnn.unavailableReason());
        RepOptimizer.Builder opt = RepOptimizer.sgd(TinySpecs.randomScales(spec, 3)).learningRate(0.05)
                .weightDecay(1e-3);
        ComputationGraph fused = RepOptVgg.builder(spec).dataType(DataType.FLOAT).engine(BlockEngine.ONEDNN)
                .build().init(opt);
        ComputationGraph plain = RepOptVgg.builder(spec).dataType(DataType.FLOAT).engine(BlockEngine.DL4J)
                .build().init(opt);
        String stem = LayerNames.conv(spec.blocks().get(0).name());
        assertInstanceOf(ConvBnReluLayer.class, fused.getLayer(stem).conf().getLayer());
        assertEquals(spec.blocks().size(), ConvBnReluFusion.fusedLayers(fused.getConfiguration()).size());
        assertTrue(ConvBnReluFusion.fusedLayers(plain.getConfiguration()).isEmpty());
        // The Rule of Initialization and the hooks are the same: Grad Mult with L2 on W, nothing on gamma/beta.
        assertEquals(plain.params(), fused.params());
        ConvBnReluLayer layer = (ConvBnReluLayer) fused.getLayer(stem).conf().getLayer();
        assertEquals(2, layer.getRegularizationByParam("W").size());
        assertEquals(1e-3, ((GradMultHook) layer.getRegularizationByParam("W").get(0)).l2());
        assertTrue(((GradMultHook) layer.getRegularizationByParam("W").get(0)).inSgdStep());
        assertInstanceOf(GradMultStepCheck.class, layer.getRegularizationByParam("W").get(1));
        assertEquals(null, layer.getRegularizationByParam("gamma"));
        DataSet ds = TinySpecs.batch(spec, 7, 11, DataType.FLOAT);
        for (int i = 0; i < 3; i++) {
            plain.fit(ds);
            fused.fit(ds);
        }
        INDArray diff = plain.params().sub(fused.params());
        double worst = diff.amaxNumber().doubleValue();
        double scale = plain.params().amaxNumber().doubleValue();
        assertTrue(worst <= 1e-3 * scale, "parameters after 3 steps differ by " + worst + " (scale " + scale + ")");
    }

    @Test
    void theOneLineOnAnAlreadyFusedNetworkPutsTheGradMultOnTheFusedKernels() {
        // A saved zip of a fused network (the fine-tune path) holds ConvBnReluLayers, not plain convs.
        Assumptions.assumeTrue(OneDnn.available(), () -> "oneDNN not present: " + OneDnn.unavailableReason());
        ComputationGraph saved = RepOptVgg.builder(spec).dataType(DataType.FLOAT).engine(BlockEngine.ONEDNN)
                .build().init();
        assertEquals(spec.blocks().size(), ConvBnReluFusion.fusedLayers(saved.getConfiguration()).size());
        ComputationGraph tuned = RepOptimizer.sgd(TinySpecs.randomScales(spec, 3)).fineTune().learningRate(0.01)
                .applyTo(saved);
        assertEquals(ConvBnReluFusion.fusedLayers(saved.getConfiguration()),
                ConvBnReluFusion.fusedLayers(tuned.getConfiguration()));
        assertEquals(saved.params(), tuned.params());
        for (String fusedLayer : ConvBnReluFusion.fusedLayers(tuned.getConfiguration())) {
            ConvBnReluLayer layer = (ConvBnReluLayer) tuned.getLayer(fusedLayer).conf().getLayer();
            assertInstanceOf(GradMultHook.class, layer.getRegularizationByParam("W").get(0), fusedLayer);
        }
        tuned.fit(TinySpecs.batch(spec, 4, 5, DataType.FLOAT));
    }

    @Test
    void dl4jEngineAndDoubleKeepThreeLayers() {
        ComputationGraph dl4j = RepOptVgg.builder(spec).engine(BlockEngine.DL4J).build().init();
        ComputationGraph dbl = RepOptVgg.builder(spec).dataType(DataType.DOUBLE).build().init();
        assertTrue(ConvBnReluFusion.fusedLayers(dl4j.getConfiguration()).isEmpty());
        assertTrue(ConvBnReluFusion.fusedLayers(dbl.getConfiguration()).isEmpty());
        assertEquals(List.of(), ConvBnReluFusion.fusedLayers(RepOptVgg.builder(spec).build().conf()),
                "conf() is DL4J's three-layer form whatever the engine");
    }

    @Test
    void fusedNetworksFoldLikeTheirThreeLayerForm() {
        ComputationGraph plain = RepOptVgg.builder(spec).engine(BlockEngine.DL4J).build().init();
        DataSet ds = TinySpecs.batch(spec, 7, 12, DataType.FLOAT);
        plain.fit(ds);
        ComputationGraph fused = ConvBnReluFusion.fuse(plain);
        INDArray a = BnFolding.fold(plain).outputSingle(false, ds.getFeatures());
        INDArray b = BnFolding.fold(fused).outputSingle(false, ds.getFeatures());
        assertEquals(a, b);
    }
}
