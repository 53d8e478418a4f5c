package org.repopt.train;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.BooleanIndexing;
import org.nd4j.linalg.indexing.conditions.Conditions;

import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Finds NaN or infinity in a network's state: every parameter (BatchNorm running mean and variance included, which
 * DL4J keeps among the parameters) and the updater state. The loss alone misses a diverged running statistic: it is
 * computed with the batch's own statistics in training mode.
 */
final class NonFiniteState {

    private static final Set<String> RUNNING_STATISTICS = Set.of(BatchNormalizationParamInitializer.GLOBAL_MEAN,
            BatchNormalizationParamInitializer.GLOBAL_VAR, BatchNormalizationParamInitializer.GLOBAL_LOG_STD);

    private NonFiniteState() {
    }

    /**
     * @param net a network
     * @return what holds NaN or infinity, e.g. {@code parameter 'b0_bn_var' (a BatchNorm running statistic)}; empty
     * when every value is finite
     */
    static Optional<String> find(ComputationGraph net) {
        INDArray params = net.params();
        if (params != null && params.length() > 0 && hasNonFinite(params)) {
            for (Map.Entry<String, INDArray> e : net.paramTable().entrySet()) {
                if (hasNonFinite(e.getValue())) {
                    return Optional.of(describe(net, e.getKey()));
                }
            }
            return Optional.of("a parameter");
        }
        INDArray state = net.getUpdater() == null ? null : net.getUpdater().getStateViewArray();
        if (state != null && state.length() > 0 && hasNonFinite(state)) {
            return Optional.of("the updater state (momentum buffers)");
        }
        return Optional.empty();
    }

    /** @return whether {@code a} holds NaN or an infinity */
    static boolean hasNonFinite(INDArray a) {
        return BooleanIndexing.or(a, Conditions.notFinite());
    }

    private static String describe(ComputationGraph net, String key) {
        int cut = key.lastIndexOf('_');
        String param = cut < 0 ? key : key.substring(cut + 1);
        Layer layer = cut < 0 ? null : net.getLayer(key.substring(0, cut));
        boolean runningStatistic = layer != null && layer.conf().getLayer()
                instanceof org.deeplearning4j.nn.conf.layers.BatchNormalization && RUNNING_STATISTICS.contains(param);
        return "parameter '" + key + "'" + (runningStatistic ? " (a BatchNorm running statistic)" : "");
    }
}
