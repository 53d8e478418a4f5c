package org.repopt.train;

import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.node.ArrayNode;
import org.nd4j.shade.jackson.databind.node.ObjectNode;
import org.repopt.io.JsonFormatException;
import org.repopt.io.StrictJson;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What {@code checkpoint.json} holds besides the model: which model file is the checkpoint, how far the run got,
 * the values that must match to resume it, and the history of the finished epochs.
 *
 * <pre>{@code
 * {"format":"repopt-train-checkpoint/1","model_file":"checkpoint-epoch-0002.zip","epochs_completed":2,
 *  "iterations":940,"config":{"epochs":10,"batchSize":128,...},"data":{"name":"fashion-mnist",...},
 *  "history":[{...epoch 1...},{...epoch 2...}]}
 * }</pre>
 *
 * @param modelFile       the model zip's file name, in the checkpoint folder
 * @param epochsCompleted epochs done
 * @param iterations      DL4J's iteration count after them
 * @param config          {@link TrainConfig#trajectoryFields()} of the run, as text
 * @param data            the data set's identity (name, classes, shape, examples, batches per epoch), as text
 * @param history         one result per finished epoch
 */
record CheckpointState(String modelFile, int epochsCompleted, int iterations, Map<String, String> config,
                       Map<String, String> data, List<EpochResult> history) {

    /** The format tag; a reader refuses any other. */
    static final String FORMAT = "repopt-train-checkpoint/1";
    private static final Set<String> FIELDS = Set.of("format", "model_file", "epochs_completed", "iterations",
            "config", "data", "history");

    CheckpointState {
        if (modelFile == null || modelFile.isBlank() || modelFile.contains("/") || modelFile.contains("\\")) {
            throw new IllegalArgumentException("model_file must be a plain file name, got '" + modelFile + "'");
        }
        config = Map.copyOf(config);
        data = Map.copyOf(data);
        history = List.copyOf(history);
        if (epochsCompleted < 1 || history.size() != epochsCompleted) {
            throw new IllegalArgumentException("epochs_completed is " + epochsCompleted + " but the history holds "
                    + history.size() + " epochs");
        }
        for (int i = 0; i < history.size(); i++) {
            if (history.get(i).epoch() != i + 1) {
                throw new IllegalArgumentException("history entry " + i + " is epoch " + history.get(i).epoch()
                        + ", expected " + (i + 1));
            }
        }
        if (history.get(history.size() - 1).iterations() != iterations) {
            throw new IllegalArgumentException("iterations is " + iterations + " but the last epoch ended at "
                    + history.get(history.size() - 1).iterations());
        }
    }

    /**
     * @param values names to values
     * @return names to {@code String.valueOf(value)}, the form in which JSON numbers compare exactly
     */
    static Map<String, String> asText(Map<String, ?> values) {
        Map<String, String> m = new LinkedHashMap<>();
        values.forEach((k, v) -> m.put(k, String.valueOf(v)));
        return m;
    }

    /**
     * @param earlierModelFile the model zip of the earlier checkpoint
     * @param epochs           epochs the earlier checkpoint holds, in {@code [1, epochsCompleted]}
     * @return the state of that earlier checkpoint of the same run: the history up to it
     */
    CheckpointState truncated(String earlierModelFile, int epochs) {
        if (epochs < 1 || epochs > epochsCompleted) {
            throw new IllegalArgumentException("epochs must be in [1, " + epochsCompleted + "], got " + epochs);
        }
        return new CheckpointState(earlierModelFile, epochs, history.get(epochs - 1).iterations(), config, data,
                history.subList(0, epochs));
    }

    /** @return the {@code checkpoint.json} text of this state (pretty-printed) */
    String toJson(ObjectMapper mapper) {
        try {
            return mapper.writerWithDefaultPrettyPrinter().writeValueAsString(toJsonNode(mapper));
        } catch (Exception e) {
            throw new IllegalStateException("cannot write the checkpoint state as JSON", e);
        }
    }

    /** @return this state as the JSON object {@link #fromJson} reads */
    ObjectNode toJsonNode(ObjectMapper mapper) {
        ObjectNode root = mapper.createObjectNode();
        root.put("format", FORMAT);
        root.put("model_file", modelFile);
        root.put("epochs_completed", epochsCompleted);
        root.put("iterations", iterations);
        ObjectNode c = root.putObject("config");
        config.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> c.put(e.getKey(), e.getValue()));
        ObjectNode d = root.putObject("data");
        data.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> d.put(e.getKey(), e.getValue()));
        ArrayNode h = root.putArray("history");
        history.forEach(r -> h.add(r.toJson(mapper)));
        return root;
    }

    /**
     * @param root  the parsed {@code checkpoint.json}
     * @param where the file, for messages
     * @return the state
     * @throws JsonFormatException naming {@code where} and the bad field
     */
    static CheckpointState fromJson(JsonNode root, String where) {
        return fromJson(StrictJson.of(root, where), Set.of());
    }

    /**
     * @param root      the state's JSON object
     * @param otherKeys keys the object may hold besides the state's own (read by the caller)
     * @return the state
     * @throws JsonFormatException naming the source and the bad field
     */
    static CheckpointState fromJson(StrictJson.Node root, Set<String> otherKeys) {
        Set<String> known = new HashSet<>(FIELDS);
        known.addAll(otherKeys);
        root.requireFields(known);
        StrictJson.Node format = root.get("format");
        if (!FORMAT.equals(format.text())) {
            throw new JsonFormatException(root.source(), "", "format", FORMAT, format.text(), "format is '"
                    + format.text() + "', expected '" + FORMAT + "'");
        }
        List<EpochResult> history = new ArrayList<>();
        for (StrictJson.Node entry : root.get("history").elements()) {
            history.add(EpochResult.fromJson(entry));
        }
        String modelFile = root.get("model_file").text();
        int epochs = root.get("epochs_completed").integer();
        int iterations = root.get("iterations").integer();
        Map<String, String> config = root.get("config").textMembers();
        Map<String, String> data = root.get("data").textMembers();
        try {
            return new CheckpointState(modelFile, epochs, iterations, config, data, history);
        } catch (IllegalArgumentException e) {
            throw new JsonFormatException(root.source(), "", null, "a consistent checkpoint state", "an inconsistent one",
                    e.getMessage());
        }
    }
}
