package org.repopt.quant;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.repopt.nn.ParamValues;
import org.repopt.quant.VggNets.BlockSpec;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WeightStatsTest {

    @Test
    void knownValues() {
        WeightStats s = WeightStats.of("k", new double[]{-2, -1, 0, 1, 2});
        assertEquals(5, s.count());
        assertEquals(0, s.mean(), 0);
        assertEquals(Math.sqrt(2), s.std(), 1e-15);
        assertEquals(2, s.maxAbs(), 0);
        // m4 = 34/5, m2 = 2: 6.8 / 4 - 3.
        assertEquals(-1.3, s.excessKurtosis(), 1e-12);
        assertEquals(2 / 127.0 / Math.sqrt(2), s.int8StepOverStd(), 1e-15);
        // One outlier among many small weights: heavy tails, a coarse INT8 step for the typical weight.
        double[] w = new double[1000];
        for (int i = 0; i < w.length; i++) {
            w[i] = (i % 2 == 0 ? 1 : -1) * 0.01;
        }
        w[0] = 1;
        WeightStats heavy = WeightStats.of("heavy", w);
        assertTrue(heavy.excessKurtosis() > 500, "kurtosis " + heavy.excessKurtosis());
        assertTrue(heavy.int8StepOverStd() > 0.2, "step/std " + heavy.int8StepOverStd());
        assertTrue(s.row().startsWith("k "), s.row());
        assertEquals(WeightStats.header().length(), s.row().length());
    }

    @Test
    void pooledEqualsConcatenated() {
        WeightStats a = WeightStats.of("ab", List.of(new double[]{1, 2}, new double[]{3, 7, -1}));
        WeightStats b = WeightStats.of("ab", new double[]{1, 2, 3, 7, -1});
        assertEquals(b, a);
    }

    @Test
    void convLayersOfADeployGraph() {
        ComputationGraph g = VggNets.build(2, 6, 6, 3, DataType.DOUBLE, 61, false,
                new BlockSpec(4, 2, true, false), new BlockSpec(5, 1, true, false));
        VggNets.randomizeBatchNorms(g, 62);
        List<WeightStats> s = Int8Ptq.deployedWeightStats(g);
        assertEquals(List.of("c0", "c1"), s.stream().map(WeightStats::layer).toList());
        assertEquals(4 * 2 * 9, s.get(0).count());
        assertEquals(5 * 4 * 9, s.get(1).count());
        ComputationGraph f = BnFolding.fold(g);
        assertEquals(WeightStats.of("c1", ParamValues.of(f.getLayer("c1").getParam("W"))), s.get(1));
        WeightStats all = WeightStats.ofAllConvLayers(f, "all");
        assertEquals(4 * 2 * 9 + 5 * 4 * 9, all.count());
        assertEquals(Math.max(s.get(0).maxAbs(), s.get(1).maxAbs()), all.maxAbs(), 0);
    }

    @Test
    void degenerateInputIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WeightStats.of("flat", new double[]{0.5, 0.5}));
        assertTrue(e.getMessage().contains("weights of 'flat': all 2 values equal 0.5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> WeightStats.of("none", new double[0]));
        assertTrue(e.getMessage().contains("weights of 'none': no values"), e.getMessage());
    }
}
