package org.repopt.train;

import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.node.ArrayNode;
import org.nd4j.shade.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.Iterator;
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

    /** @return the {@code checkpoint.json} text */
    String toJson(ObjectMapper mapper) {
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
        try {
            return mapper.writerWithDefaultPrettyPrinter().writeValueAsString(root);
        } catch (Exception e) {
            throw new IllegalStateException("cannot write the checkpoint state as JSON", e);
        }
    }

    /**
     * @param root  the parsed {@code checkpoint.json}
     * @param where the file, for messages
     * @return the state
     * @throws IllegalArgumentException naming {@code where} and the bad field
     */
    static CheckpointState fromJson(JsonNode root, String where) {
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(where + ": expected a JSON object");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) {
                throw new IllegalArgumentException(where + ": unknown field '" + f + "'");
            }
        }
        String format = text(root, "format", where);
        if (!FORMAT.equals(format)) {
            throw new IllegalArgumentException(where + ": format is '" + format + "', expected '" + FORMAT + "'");
        }
        JsonNode h = root.get("history");
        if (h == null || !h.isArray()) {
            throw new IllegalArgumentException(where + ": field 'history' must be an array");
        }
        List<EpochResult> history = new ArrayList<>();
        for (int i = 0; i < h.size(); i++) {
            history.add(EpochResult.fromJson(h.get(i), where + " history[" + i + "]"));
        }
        try {
            return new CheckpointState(text(root, "model_file", where), integer(root, "epochs_completed", where),
                    integer(root, "iterations", where), textMap(root, "config", where), textMap(root, "data", where),
                    history);
        } catch (IllegalArgumentException e) {
            if (e.getMessage().startsWith(where)) {
                throw e;
            }
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
    }

    private static String text(JsonNode n, String field, String where) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual()) {
            throw new IllegalArgumentException(where + ": field '" + field + "' must be a string, got " + v);
        }
        return v.textValue();
    }

    private static int integer(JsonNode n, String field, String where) {
        JsonNode v = n.get(field);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new IllegalArgumentException(where + ": field '" + field + "' must be an int, got " + v);
        }
        return v.intValue();
    }

    private static Map<String, String> textMap(JsonNode n, String field, String where) {
        JsonNode v = n.get(field);
        if (v == null || !v.isObject()) {
            throw new IllegalArgumentException(where + ": field '" + field + "' must be an object, got " + v);
        }
        Map<String, String> m = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new IllegalArgumentException(where + ": " + field + "." + e.getKey() + " must be a string, got "
                        + e.getValue());
            }
            m.put(e.getKey(), e.getValue().textValue());
        }
        return m;
    }
}
