package org.repopt.gr;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A {@link MultiLayerConfiguration} as the equivalent chain-shaped {@link ComputationGraphConfiguration} and back, so
 * every graph code path (site discovery, scale assignment, the RepOptimizer, re-initialization) serves a
 * {@code MultiLayerNetwork} too.
 *
 * <p>The graph has one input, {@value #INPUT} (or {@code input_} where a layer already carries that name), then layer
 * {@code i} as a vertex named {@link #layerName(MultiLayerConfiguration, int)} reading layer {@code i-1}, with layer
 * {@code i}'s own configuration (updater, regularization, seed, data type) and input preprocessor, and the last layer
 * as its output. The network-level settings (data type, workspace and cache modes, backprop type and TBPTT lengths,
 * iteration and epoch counts, output-layer validation) carry over. A chain's parameters flatten in the same order in
 * both network kinds, so {@code multiLayerNetwork.params()} initializes the graph and back.
 */
public final class MultiLayerAsGraph {

    /** The graph's input name. */
    public static final String INPUT = "input";

    private MultiLayerAsGraph() {
    }

    /**
     * The name layer {@code i} has in a scales file, a GR report and the graph: the layer's own name where set, else
     * DL4J's default, {@code "layer" + i} (what {@code ListBuilder.build()} assigns and
     * {@code MultiLayerNetwork.getLayer(String)} looks up).
     *
     * @param conf a network configuration
     * @param i    the layer index
     * @return the layer's name
     */
    public static String layerName(MultiLayerConfiguration conf, int i) {
        String own = conf.getConf(i).getLayer().getLayerName();
        return own != null ? own : "layer" + i;
    }

    /**
     * @param conf a network configuration
     * @return every layer's name, in layer order
     * @throws IllegalArgumentException naming a name two layers carry
     */
    public static List<String> layerNames(MultiLayerConfiguration conf) {
        List<String> names = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < conf.getConfs().size(); i++) {
            String name = layerName(conf, i);
            if (!seen.add(name)) {
                throw new IllegalArgumentException("layer " + i + " is named '" + name + "', as an earlier layer is; "
                        + "give every layer its own name");
            }
            names.add(name);
        }
        return names;
    }

    /**
     * @param conf a network configuration (not changed)
     * @return the equivalent chain-shaped graph configuration
     */
    public static ComputationGraphConfiguration toGraph(MultiLayerConfiguration conf) {
        List<String> names = layerNames(conf);
        if (names.isEmpty()) {
            throw new IllegalArgumentException("the MultiLayerConfiguration has no layers");
        }
        String input = names.contains(INPUT) ? INPUT + "_" : INPUT;
        Map<String, GraphVertex> vertices = new LinkedHashMap<>();
        Map<String, List<String>> inputs = new LinkedHashMap<>();
        String previous = input;
        for (int i = 0; i < names.size(); i++) {
            NeuralNetConfiguration layerConf = conf.getConf(i).clone();
            layerConf.getLayer().setLayerName(names.get(i));
            InputPreProcessor pre = conf.getInputPreProcess(i);
            vertices.put(names.get(i), new LayerVertex(layerConf, pre == null ? null : pre.clone()));
            inputs.put(names.get(i), List.of(previous));
            previous = names.get(i);
        }
        ComputationGraphConfiguration g = new ComputationGraphConfiguration();
        g.setVertices(vertices);
        g.setVertexInputs(inputs);
        g.setNetworkInputs(new ArrayList<>(List.of(input)));
        g.setNetworkOutputs(new ArrayList<>(List.of(previous)));
        NeuralNetConfiguration defaults = conf.getConf(0).clone();
        defaults.setLayer(null);
        g.setDefaultConfiguration(defaults);
        g.setBackpropType(conf.getBackpropType());
        g.setTbpttFwdLength(conf.getTbpttFwdLength());
        g.setTbpttBackLength(conf.getTbpttBackLength());
        g.setTrainingWorkspaceMode(conf.getTrainingWorkspaceMode());
        g.setInferenceWorkspaceMode(conf.getInferenceWorkspaceMode());
        g.setCacheMode(conf.getCacheMode());
        g.setDataType(conf.getDataType());
        g.setIterationCount(conf.getIterationCount());
        g.setEpochCount(conf.getEpochCount());
        g.setValidateOutputLayerConfig(conf.isValidateOutputLayerConfig());
        return g;
    }

    /**
     * The way back: {@code like} with every layer's configuration and preprocessor taken from the vertex of the same
     * name in {@code graph}, for example after the RepOptimizer attached its updaters and Grad Mult hooks there.
     *
     * @param graph a chain-shaped graph whose vertices are named like {@code like}'s layers
     * @param like  the network configuration the graph came from (not changed)
     * @return a copy of {@code like} with the graph's layer configurations
     * @throws IllegalArgumentException where the graph lacks a layer or is not {@code like}'s chain
     */
    public static MultiLayerConfiguration toMultiLayer(ComputationGraphConfiguration graph,
                                                       MultiLayerConfiguration like) {
        List<String> names = layerNames(like);
        long layerVertices = graph.getVertices().values().stream().filter(v -> v instanceof LayerVertex).count();
        if (layerVertices != names.size() || graph.getVertices().size() != names.size()) {
            throw new IllegalArgumentException("the graph has " + graph.getVertices().size() + " vertices, the "
                    + "MultiLayerConfiguration " + names.size() + " layers " + names);
        }
        MultiLayerConfiguration out = like.clone();
        Map<Integer, InputPreProcessor> pre = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            GraphVertex v = graph.getVertices().get(names.get(i));
            if (!(v instanceof LayerVertex)) {
                throw new IllegalArgumentException("the graph has no layer '" + names.get(i) + "' (layer " + i + ")");
            }
            LayerVertex lv = (LayerVertex) v;
            out.getConfs().set(i, lv.getLayerConf().clone());
            if (lv.getPreProcessor() != null) {
                pre.put(i, lv.getPreProcessor().clone());
            }
        }
        out.setInputPreProcessors(pre);
        out.setIterationCount(graph.getIterationCount());
        out.setEpochCount(graph.getEpochCount());
        return out;
    }
}
