package org.repopt.quant;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.repopt.gr.RepOptimizer;
import org.repopt.model.CslaVgg;
import org.repopt.model.RepOptVgg;
import org.repopt.model.RepVgg;
import org.repopt.model.VggSpec;
import org.repopt.testing.TinySpecs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The deploy models of the model family are plain VGGs to the quantization room. */
class ModelFamilyQuantizationTest {

    private final VggSpec tiny = TinySpecs.tiny();

    private static ComputationGraph trained(ComputationGraph net, VggSpec spec) {
        for (int step = 0; step < 3; step++) {
            net.fit(TinySpecs.batch(spec, 8, step, DataType.DOUBLE));
        }
        return net;
    }

    @Test
    void repOptVggFoldsExactly() {
        ComputationGraph net = trained(RepOptVgg.builder(tiny).dataType(DataType.DOUBLE).build()
                .init(RepOptimizer.sgd(CslaVgg.initialScales(tiny)).learningRate(0.05)), tiny);
        assertEquals(tiny.blocks().size(), PlainVgg.of(net).blocks().size());
        ComputationGraph folded = BnFolding.fold(net);
        INDArray x = TinySpecs.batch(tiny, 5, 9, DataType.DOUBLE).getFeatures();
        double diff = net.outputSingle(false, x).sub(folded.outputSingle(false, x)).amaxNumber().doubleValue();
        assertTrue(diff <= 1e-9, "folded RepOpt-VGG differs by " + diff);
    }

    @Test
    void fusedRepVggIsAPlainVggWithoutBatchNorm() {
        RepVgg model = RepVgg.builder(tiny).dataType(DataType.DOUBLE).build();
        ComputationGraph deploy = model.deploy(trained(RepOptimizer.baselineSgd().learningRate(0.05)
                .applyTo(model.conf()), tiny));
        assertTrue(PlainVgg.of(deploy).blocks().stream().allMatch(b -> b.batchNorm().isEmpty()));
        assertEquals(tiny.blocks().size(), Int8Ptq.deployedWeightStats(deploy).size());
    }

    @Test
    void theMultiBranchTrainingGraphsAreRefused() {
        ComputationGraph repvgg = RepVgg.builder(tiny).build().init();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PlainVgg.of(repvgg));
        assertTrue(e.getMessage().contains("plain VGG"), e.getMessage());
    }
}
