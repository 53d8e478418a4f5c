package org.repopt.backend;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNBatchNormHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.repopt.gr.BlockScales;
import org.repopt.gr.RepOptimizer;
import org.repopt.testing.TinyNets;

import java.lang.reflect.Field;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * On the CPU backend every ConvolutionLayer and BatchNormalization layer must train through its oneDNN helper, with
 * no failure that made DL4J fall back to its built-in implementation. Fails on stock DL4J 1.0.0-M2.1 (helpers
 * disabled by default, and a helper lookup by a class name that no longer exists).
 */
class OneDnnHelpersTest {

    @BeforeAll
    static void cpuOnly() {
        Assumptions.assumeTrue(OneDnnHelpers.isCpuBackend(), "oneDNN helpers exist on the CPU backend only");
        Assumptions.assumeFalse(Boolean.getBoolean("org.eclipse.deeplearning4j.helpers.disable"),
                "the user switched helpers off");
    }

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void convAndBatchNormTrainWithTheirOneDnnHelper(DataType type) throws Exception {
        List<BlockScales> blocks = List.of(
                block("b0", 3, 8, 2), block("b1", 8, 8, 1));
        ComputationGraph net = RepOptimizer.sgd(blocks).learningRate(0.01).applyTo(
                TinyNets.plain(blocks, 4, 8, 8, type, 1));
        Nd4j.getRandom().setSeed(3);
        for (int i = 0; i < 3; i++) {
            DataSet ds = new DataSet(Nd4j.rand(type, 4, 3, 8, 8), Nd4j.eye(4).castTo(type));
            net.fit(ds);
        }
        Map<String, String> helpers = OneDnnHelpers.helpersOf(net);
        assertEquals(Map.of("conv0", MKLDNNConvHelper.class.getSimpleName(),
                "conv1", MKLDNNConvHelper.class.getSimpleName(),
                "bn0", MKLDNNBatchNormHelper.class.getSimpleName(),
                "bn1", MKLDNNBatchNormHelper.class.getSimpleName()), helpers);
        for (Layer l : net.getLayers()) {
            if (l.getHelper() != null) {
                assertEquals(0, helperFailures(l), l.conf().getLayer().getLayerName()
                        + ": the oneDNN helper failed and DL4J fell back to its built-in implementation");
            }
        }
        assertTrue(OneDnnHelpers.helpersRequested());
    }

    private static BlockScales block(String name, int in, int out, int stride) {
        double[] ones = new double[out];
        java.util.Arrays.fill(ones, 1.0);
        return new BlockScales(name, in, out, stride, ones, ones, in == out && stride == 1 ? ones : null);
    }

    /** DL4J counts helper failures in a protected field; a test may read it. */
    private static int helperFailures(Layer layer) throws ReflectiveOperationException {
        for (Class<?> c = layer.getClass(); c != null; c = c.getSuperclass()) {
            try {
                Field f = c.getDeclaredField("helperCountFail");
                f.setAccessible(true);
                return f.getInt(layer);
            } catch (NoSuchFieldException e) {
                // declared further up
            }
        }
        throw new NoSuchFieldException("helperCountFail in " + layer.getClass());
    }
}
