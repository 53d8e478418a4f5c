package org.repopt.quant;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.ViewIterator;
import org.repopt.quant.VggNets.BlockSpec;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Int8PtqTest {

    private static ComputationGraph trained() {
        ComputationGraph g = VggNets.build(3, 8, 8, 4, DataType.FLOAT, 71, true,
                new BlockSpec(8, 2, true, false), new BlockSpec(8, 1, true, false), new BlockSpec(16, 2, true, false));
        VggNets.randomizeBatchNorms(g, 72);
        DataSet train = VggNets.randomData(32, 3, 8, 8, 4, DataType.FLOAT, 73);
        for (int i = 0; i < 5; i++) {
            g.fit(train);
        }
        return g;
    }

    @Test
    void reportMatchesTheStepsDoneByHand() {
        ComputationGraph g = trained();
        String before = g.getConfiguration().toJson();
        DataSet calib = VggNets.randomData(32, 3, 8, 8, 4, DataType.FLOAT, 73);
        DataSet eval = VggNets.randomData(40, 3, 8, 8, 4, DataType.FLOAT, 74);
        PtqConfig config = PtqConfig.defaults().withWeights(Granularity.PER_TENSOR).withCalibrationBatches(3);
        PtqReport r = Int8Ptq.run(g, new ViewIterator(calib, 8), new ViewIterator(eval, 16), config);
        assertEquals(before, g.getConfiguration().toJson());

        assertEquals(40, r.evaluated());
        assertEquals(g.evaluate(new ViewIterator(eval, 16)).accuracy(), r.floatTop1(), 0);
        ComputationGraph deploy = BnFolding.fold(g);
        List<QuantPoint> points = Calibrator.calibrate(deploy, new ViewIterator(calib, 8), 3,
                new RangeEstimator.Percentile(99.99), ActivationGrid.UNSIGNED_AFTER_RELU);
        assertEquals(points, r.activationPoints());
        ComputationGraph int8 = FakeQuantization.apply(deploy, points, Granularity.PER_TENSOR);
        assertEquals(int8.evaluate(new ViewIterator(eval, 16)).accuracy(), r.int8Top1(), 0);
        assertEquals(100 * (r.floatTop1() - r.int8Top1()), r.top1DropPoints(), 1e-12);
        assertEquals(WeightStats.ofConvLayers(deploy), r.convWeights());
        assertEquals(r.convWeights().stream().mapToLong(WeightStats::count).sum(), r.allConvWeights().count());
        assertEquals(List.of("x", "r0", "r1", "r2", "pool"), points.stream().map(QuantPoint::after).toList());
        assertTrue(points.get(0).signed() && points.stream().skip(1).noneMatch(QuantPoint::signed));

        String text = r.toString();
        for (String s : new String[]{"weights per-tensor symmetric int8", "percentile 99.99 over 3 calibration batches",
                "float top-1", "INT8 top-1", "drop", "(40 examples)", "c0", "c2", "all convs", "ex.kurt",
                "[-127,127]", "[0,255]", "pool"}) {
            assertTrue(text.contains(s), "report lacks '" + s + "':\n" + text);
        }
    }

    @Test
    void iteratorsAreChecked() {
        ComputationGraph g = VggNets.build(1, 4, 4, 2, DataType.FLOAT, 75, false, new BlockSpec(2, 1, true, false));
        DataSet d = VggNets.randomData(8, 1, 4, 4, 2, DataType.FLOAT, 76);
        ViewIterator once = new ViewIterator(d, 4) {
            @Override
            public boolean resetSupported() {
                return false;
            }
        };
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Int8Ptq.run(g, new ViewIterator(d, 4), once, PtqConfig.defaults()));
        assertTrue(e.getMessage().contains("does not support reset; it is read twice"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Int8Ptq.run(g, new ViewIterator(d, 4), new ViewIterator(d, 4), PtqConfig.defaults()));
        assertTrue(e.getMessage().contains("calibration iterator ended after 2 batches, 32 requested"),
                e.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> PtqConfig.defaults().withCalibrationBatches(0))
                .getMessage().contains("calibrationBatches must be >= 1, got 0"));
    }
}
