package org.repopt.spark;

import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;
import org.repopt.parallel.DataParallelReference;
import org.repopt.parallel.TinyRepOptVgg;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.repopt.parallel.DataParallelReference.assertMatches;
import static org.repopt.parallel.DataParallelReference.maxAbsDiff;

/**
 * Spark training is data-parallel SGD exactly: on two executor JVMs ({@code local-cluster}), which deserialize the
 * network's configuration with its Grad Mult hooks, three steps of a small RepOpt-VGG in double precision equal
 * the single-process average of the two workers' steps, parameters and updater state, to 1e-10.
 */
class SparkExactnessTest {

    private static JavaSparkContext sc;

    @BeforeAll
    static void start() {
        sc = TestClusters.localCluster();
    }

    @AfterAll
    static void stop() {
        if (sc != null) {
            sc.stop();
        }
    }

    private static ComputationGraph spark(ComputationGraph net, List<DataSet> batches, int k) {
        SparkEpochFitter fitter = SparkEpochFitter.builder().workers(2).averagingFrequency(k).build(sc);
        fitter.fit(net, batches.iterator(), (loss, examples) -> assertTrue(Double.isFinite(loss)));
        return net;
    }

    @Test
    void threeStepsEqualTheAverageOfTheTwoWorkersSteps() {
        List<DataSet> batches = TinyRepOptVgg.batches(3, 8, 1);
        ComputationGraph start = TinyRepOptVgg.withGradMult();
        ComputationGraph reference = DataParallelReference.trained(start, batches, 2, 1);
        ComputationGraph onSpark = spark(DataParallelReference.copy(start), batches, 1);

        assertTrue(maxAbsDiff(start.params(), reference.params()) > 1e-3, "the reference trained");
        assertEquals(3, onSpark.getIterationCount());
        assertEquals(0, onSpark.getEpochCount());
        assertMatches(reference, onSpark);
    }

    @Test
    void withoutTheGradMultTheWorkersWouldComputeSomethingElse() {
        List<DataSet> batches = TinyRepOptVgg.batches(3, 8, 1);
        ComputationGraph start = TinyRepOptVgg.withGradMult();
        ComputationGraph reference = DataParallelReference.trained(start, batches, 2, 1);
        ComputationGraph plain = spark(TinyRepOptVgg.withoutGradMult(start), batches, 1);

        double params = maxAbsDiff(reference.params(), plain.params());
        assertTrue(params > 1e-4, "without Grad Mult the parameters differ by only " + params);
    }

    @Test
    void averagingEveryTwoStepsIsLocalSgdWithAShortLastRound() {
        List<DataSet> batches = TinyRepOptVgg.batches(3, 8, 2);
        ComputationGraph start = TinyRepOptVgg.withGradMult();
        ComputationGraph reference = DataParallelReference.trained(start, batches, 2, 2);
        ComputationGraph synchronous = DataParallelReference.trained(start, batches, 2, 1);
        ComputationGraph onSpark = spark(DataParallelReference.copy(start), batches, 2);

        assertEquals(3, onSpark.getIterationCount(), "one iteration per global batch, also in the short round");
        assertMatches(reference, onSpark);
        assertTrue(maxAbsDiff(synchronous.params(), onSpark.params()) > 1e-6, "K=2 is not synchronous SGD");
    }
}
