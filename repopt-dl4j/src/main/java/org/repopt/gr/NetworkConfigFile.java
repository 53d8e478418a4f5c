package org.repopt.gr;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A user's network configuration as DL4J writes it ({@code toJson()}), of either kind: a
 * {@code ComputationGraphConfiguration} (it has {@code "vertices"}) or a {@code MultiLayerConfiguration} (it has
 * {@code "confs"}). A {@code MultiLayerConfiguration} is also offered as its chain graph ({@link MultiLayerAsGraph}),
 * under DL4J's layer names, so that everything that takes a graph takes either.
 *
 * @param file       where it was read from
 * @param graph      the graph, or the chain graph of the {@code MultiLayerConfiguration}
 * @param multiLayer the {@code MultiLayerConfiguration}, or {@code null} for a graph file
 */
public record NetworkConfigFile(Path file, ComputationGraphConfiguration graph, MultiLayerConfiguration multiLayer) {

    /** Validates the fields. */
    public NetworkConfigFile {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(graph, "graph");
    }

    /**
     * @param file a JSON file written from {@code ComputationGraphConfiguration.toJson()} or
     *             {@code MultiLayerConfiguration.toJson()}
     * @return the configuration
     * @throws NoSuchFileException      when the file does not exist
     * @throws IOException              when it cannot be read
     * @throws IllegalArgumentException naming the file when it is not such a configuration
     */
    public static NetworkConfigFile read(Path file) throws IOException {
        String json = Files.readString(file, StandardCharsets.UTF_8);
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": not JSON (" + firstLine(e) + "); expected a DL4J "
                    + "configuration as ComputationGraphConfiguration.toJson() or MultiLayerConfiguration.toJson() "
                    + "writes it");
        }
        boolean isGraph = root != null && root.isObject() && root.has("vertices");
        boolean isMultiLayer = root != null && root.isObject() && root.has("confs");
        if (isGraph == isMultiLayer) {
            throw new IllegalArgumentException(file + ": neither a ComputationGraphConfiguration (no \"vertices\") nor "
                    + "a MultiLayerConfiguration (no \"confs\"); expected the JSON of DL4J's toJson()");
        }
        try {
            if (isGraph) {
                return new NetworkConfigFile(file, ComputationGraphConfiguration.fromJson(json), null);
            }
            MultiLayerConfiguration m = MultiLayerConfiguration.fromJson(json);
            return new NetworkConfigFile(file, MultiLayerAsGraph.toGraph(m), m);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(file + ": DL4J cannot read this " + (isGraph
                    ? "ComputationGraphConfiguration" : "MultiLayerConfiguration") + ": " + firstLine(e));
        }
    }

    /** @return whether the file holds a {@code MultiLayerConfiguration} */
    public boolean isMultiLayer() {
        return multiLayer != null;
    }

    /** @return {@code ComputationGraphConfiguration} or {@code MultiLayerConfiguration} */
    public String kind() {
        return isMultiLayer() ? "MultiLayerConfiguration" : "ComputationGraphConfiguration";
    }

    /** @return the file name without {@code .json}, a name for the network */
    public String name() {
        String n = file.getFileName().toString();
        return n.endsWith(".json") ? n.substring(0, n.length() - ".json".length()) : n;
    }

    private static String firstLine(Exception e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
