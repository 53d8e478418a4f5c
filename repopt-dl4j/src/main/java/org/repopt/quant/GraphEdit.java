package org.repopt.quant;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.repopt.backend.OneDnnHelpers;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The few graph edits the quantization tools share: work on a clone of a configuration, build a fresh graph from
 * it and carry parameters over by layer name. Package-private: the public tools return new graphs and never touch
 * their input.
 */
final class GraphEdit {

    private GraphEdit() {
    }

    /** Builds and initializes a graph from an edited configuration (helpers switched on first, as everywhere). */
    static ComputationGraph build(ComputationGraphConfiguration conf) {
        conf.validate();
        OneDnnHelpers.enable();
        ComputationGraph g = new ComputationGraph(conf);
        g.init();
        return g;
    }

    /**
     * Copies every parameter of {@code to}'s layers from the layer of the same name in {@code from}, except the
     * layers in {@code skip} (which the caller fills itself).
     */
    static void copyParams(ComputationGraph from, ComputationGraph to, Set<String> skip) {
        for (Layer l : to.getLayers()) {
            String name = l.conf().getLayer().getLayerName();
            if (skip.contains(name)) {
                continue;
            }
            for (Map.Entry<String, INDArray> p : l.paramTable().entrySet()) {
                INDArray src = from.getLayer(name).getParam(p.getKey());
                if (src == null || !Arrays.equals(src.shape(), p.getValue().shape())) {
                    throw new IllegalStateException("layer '" + name + "': parameter " + p.getKey() + " has shape "
                            + Arrays.toString(p.getValue().shape()) + " in the new graph but "
                            + (src == null ? "is missing" : Arrays.toString(src.shape())) + " in the source graph");
                }
                p.getValue().assign(src);
            }
        }
    }

    /**
     * Inserts {@code layer} as a new vertex {@code name} between {@code after} (a vertex or the network input) and
     * all of its consumers, in a configuration being edited.
     */
    static void insertAfter(ComputationGraphConfiguration conf, String after, String name,
                            org.deeplearning4j.nn.conf.layers.Layer layer) {
        if (conf.getVertices().containsKey(name) || conf.getNetworkInputs().contains(name)) {
            throw new IllegalArgumentException("cannot insert layer '" + name + "' after '" + after
                    + "': the graph already has a vertex of that name");
        }
        // The new vertex takes the graph's defaults (data type, workspace modes) from the default configuration.
        NeuralNetConfiguration nnc = conf.getDefaultConfiguration().clone();
        nnc.clearVariables();
        layer.setLayerName(name);
        nnc.setLayer(layer);
        for (List<String> inputs : conf.getVertexInputs().values()) {
            inputs.replaceAll(s -> s.equals(after) ? name : s);
        }
        conf.getVertices().put(name, new LayerVertex(nnc, null));
        conf.getVertexInputs().put(name, new ArrayList<>(List.of(after)));
    }
}
