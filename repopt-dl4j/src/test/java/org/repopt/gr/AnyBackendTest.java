package org.repopt.gr;

import org.deeplearning4j.config.DL4JSystemProperties;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.mkldnn.BaseMKLDNNHelper;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.repopt.backend.OneDnn;
import org.repopt.backend.OneDnnHelpers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The one line works unchanged on every ND4J backend: the build's Maven profile says which one this run has
 * ({@code repopt.expected.backend}: {@code cpu} with oneDNN, {@code plain-cpu} without, {@code cuda}), and this test
 * checks the run really is on it, then trains a graph and a MultiLayerNetwork through the RepOptimizer. On the plain
 * CPU backend oneDNN is absent, nothing is switched on and no system property is set.
 */
class AnyBackendTest {

    @Test
    void theOneLineTrainsOnThisBuildsBackend() {
        String expected = System.getProperty("repopt.expected.backend", "");
        switch (expected) {
            case "cpu":
                assertTrue(OneDnnHelpers.isCpuBackend());
                assertTrue(OneDnnHelpers.nd4jHasOneDnn(), "the cpu profile's nd4j-native has oneDNN");
                assertTrue(BaseMKLDNNHelper.mklDnnEnabled(), "DL4J finds the oneDNN helpers");
                assertTrue(OneDnn.available(), OneDnn.unavailableReason());
                break;
            case "plain-cpu":
                assertTrue(OneDnnHelpers.isCpuBackend());
                assertFalse(OneDnnHelpers.nd4jHasOneDnn(), "the plain linux-x86_64 classifier has no oneDNN");
                assertFalse(OneDnn.available(), "no oneDNN natives on the plain class path");
                break;
            case "cuda":
                assertEquals("CUDA", OneDnnHelpers.backendName().toUpperCase());
                break;
            case "":
                break; // run outside Maven (an IDE): no expectation about the backend
            default:
                fail("unknown repopt.expected.backend '" + expected + "' (known: cpu, plain-cpu, cuda)");
        }
        String helpersBefore = System.getProperty(DL4JSystemProperties.DISABLE_HELPER_PROPERTY);

        MultiLayerNetwork mln = RepOptimizer.sgd(MultiLayerRepOptimizerTest.scales()).mapByBlockName()
                .learningRate(0.05).applyTo(GrSitesTest.userMultiLayer());
        Nd4j.getRandom().setSeed(1);
        DataSet batch = new DataSet(Nd4j.rand(DataType.DOUBLE, 4, 2, 8, 8), Nd4j.eye(3).getRows(0, 1, 2, 0));
        double before = mln.score(batch);
        for (int i = 0; i < 5; i++) {
            mln.fit(batch);
        }
        assertTrue(mln.score(batch) < before, "training lowers the loss on a repeated batch");
        assertTrue(((BaseLayer) mln.getLayerWiseConfigurations().getConf(4).getLayer()).getRegularization().get(0)
                instanceof GradMultHook);

        ComputationGraph graph = RepOptimizer.sgd(MultiLayerRepOptimizerTest.scales()).mapByBlockName()
                .learningRate(0.05).applyTo(MultiLayerAsGraph.toGraph(GrSitesTest.userMultiLayer()));
        graph.fit(batch);
        assertEquals(1, graph.getConfiguration().getIterationCount());

        if ("plain-cpu".equals(expected) && helpersBefore == null) {
            assertNull(System.getProperty(DL4JSystemProperties.DISABLE_HELPER_PROPERTY),
                    "without oneDNN the library sets no system property");
        }
    }
}
