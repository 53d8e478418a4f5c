package org.repopt.io;

import org.nd4j.shade.jackson.core.JsonLocation;
import org.nd4j.shade.jackson.core.JsonParser;
import org.nd4j.shade.jackson.core.JsonProcessingException;
import org.nd4j.shade.jackson.databind.DeserializationFeature;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.node.MissingNode;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The project's one strict JSON reader, for every file it reads back (scales files, {@code checkpoint.json},
 * {@code metrics.jsonl} lines, the command line's {@code run.json}). Strict means: one JSON value and nothing after
 * it, no key twice in an object, no unknown key, every required key present, every value of its type; a violation
 * is a {@link JsonFormatException} naming the source, the place in the document, and expected vs actual.
 *
 * <pre>{@code
 * StrictJson.Node root = StrictJson.read(file, "a scales file").requireKeys(Set.of("model", "blocks"));
 * String model = root.get("model").text();
 * for (StrictJson.Node block : root.get("blocks").elements()) { ... }
 * }</pre>
 *
 * {@code NaN} and {@code Infinity} parse as numbers, so that a reader can name a non-finite value
 * ({@link Node#finite()}) instead of reporting a syntax error.
 */
public final class StrictJson {

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    /** Longest rendering of an offending value in a message. */
    private static final int SHOWN = 80;

    private StrictJson() {
    }

    /**
     * @param file        a JSON file
     * @param whatItHolds what the file should hold, for the message when it is missing (e.g. {@code "a scales
     *                    file"})
     * @return its root value
     * @throws NoSuchFileException when the file does not exist; the message names it and what was expected
     * @throws IOException         when it cannot be read
     * @throws JsonFormatException when it is not one JSON value
     */
    public static Node read(Path file, String whatItHolds) throws IOException {
        Objects.requireNonNull(whatItHolds, "whatItHolds");
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, "no such file; expected " + whatItHolds);
        }
        if (Files.isDirectory(file)) {
            throw new JsonFormatException(file.toString(), "", null, whatItHolds, "a directory",
                    "is a directory, expected " + whatItHolds);
        }
        try (InputStream in = Files.newInputStream(file)) {
            return parse(in, file.toString());
        }
    }

    /**
     * @param in     JSON text
     * @param source what to call the stream in messages
     * @return its root value
     * @throws IOException         when the stream cannot be read
     * @throws JsonFormatException when it is not one JSON value
     */
    public static Node parse(InputStream in, String source) throws IOException {
        JsonNode root;
        try {
            root = MAPPER.readTree(in);
        } catch (JsonProcessingException e) {
            throw syntax(source, e);
        }
        return root(root, source);
    }

    /**
     * @param json   a parsed value
     * @param source what to call it in messages
     * @return the value as the root of a document
     */
    public static Node of(JsonNode json, String source) {
        return root(json, source);
    }

    private static Node root(JsonNode json, String source) {
        if (json == null || json.isMissingNode()) {
            throw new JsonFormatException(source, "", null, "a JSON value", "no content",
                    "is empty, expected a JSON value");
        }
        return new Node(source, "", null, json);
    }

    private static JsonFormatException syntax(String source, JsonProcessingException e) {
        String message = e.getOriginalMessage();
        JsonLocation at = e.getLocation();
        String place = at == null ? "" : String.format(Locale.ROOT, " at line %d, column %d", at.getLineNr(),
                at.getColumnNr());
        if (message.startsWith("Duplicate field ")) {
            String key = message.substring("Duplicate field ".length());
            return new JsonFormatException(source, "", key.replace("'", ""), "each key once", "a second " + key,
                    "not valid JSON: duplicate key " + key + place);
        }
        if (message.startsWith("Trailing token")) {
            return new JsonFormatException(source, "", null, "one JSON value", "more content after it",
                    "not valid JSON: content after the JSON value" + place);
        }
        return new JsonFormatException(source, "", null, "valid JSON", message, "not valid JSON" + place + ": "
                + message);
    }

    /**
     * A value inside a document, with its place, so that every complaint about it names the source, the place and
     * what was expected. Immutable.
     */
    public static final class Node {
        private final String source;
        private final String parentPath;
        private final String name;
        private final JsonNode json;

        private Node(String source, String parentPath, String name, JsonNode json) {
            this.source = source;
            this.parentPath = parentPath;
            this.name = name;
            this.json = json;
        }

        /** @return the source the document came from */
        public String source() {
            return source;
        }

        /** @return this value's place in the document, e.g. {@code blocks[1].stride}; {@code ""} for the root */
        public String path() {
            return name == null ? parentPath : parentPath.isEmpty() ? name : parentPath + "." + name;
        }

        /** @return the parsed value */
        public JsonNode json() {
            return json;
        }

        /**
         * @param label a name for this value in messages, e.g. the block name of {@code blocks[1]}
         * @return this value, named {@code path (label)} in messages about it and its members
         */
        public Node labelled(String label) {
            return new Node(source, parentPath, (name == null ? "" : name) + " (" + label + ")", json);
        }

        /**
         * @return whether the value is JSON {@code null}
         * @throws JsonFormatException when the key is missing
         */
        public boolean isNull() {
            if (json.isMissingNode()) {
                throw fail("present (null or a value)");
            }
            return json.isNull();
        }

        /**
         * @param known every key this object may hold
         * @return this object
         * @throws JsonFormatException when the value is not an object or holds another key ("unknown key")
         */
        public Node requireKeys(Collection<String> known) {
            return requireMembers(known, "key");
        }

        /**
         * The same check as {@link #requireKeys}, for documents that call their keys fields ("unknown field").
         *
         * @param known every field this object may hold
         * @return this object
         */
        public Node requireFields(Collection<String> known) {
            return requireMembers(known, "field");
        }

        private Node requireMembers(Collection<String> known, String term) {
            requireObject();
            for (Iterator<String> it = json.fieldNames(); it.hasNext(); ) {
                String key = it.next();
                if (!known.contains(key)) {
                    throw new JsonFormatException(source, path(), key, "one of " + sorted(known), "'" + key + "'",
                            "unknown " + term + " '" + key + "'; known " + term + "s: " + sorted(known));
                }
            }
            return this;
        }

        private static List<String> sorted(Collection<String> keys) {
            return keys.stream().sorted().toList();
        }

        private void requireObject() {
            if (!json.isObject()) {
                throw fail("a JSON object");
            }
        }

        /**
         * @param key a required key of this object
         * @return its value; when the key is missing, a value whose every accessor fails with "missing key"
         * @throws JsonFormatException when this is not an object
         */
        public Node get(String key) {
            requireObject();
            JsonNode v = json.get(key);
            return new Node(source, path(), key, v == null ? MissingNode.getInstance() : v);
        }

        /**
         * @param key an optional key of this object
         * @return its value; empty when the key is absent or its value is {@code null}
         */
        public Optional<Node> optional(String key) {
            requireObject();
            JsonNode v = json.get(key);
            return v == null || v.isNull() ? Optional.empty() : Optional.of(new Node(source, path(), key, v));
        }

        /** @return whether this object holds {@code key} (with any value, {@code null} included) */
        public boolean has(String key) {
            requireObject();
            return json.has(key);
        }

        /**
         * @param expected what the value should have been, e.g. {@code "an integer >= 1"}
         * @return an exception saying so, naming the source, the place and the actual value
         */
        public JsonFormatException fail(String expected) {
            String actual = json.isMissingNode() ? "null (missing key '" + name + "')" : shown(json);
            String problem = name == null ? "expected " + expected + ", got " + actual
                    : "field '" + name + "' must be " + expected + ", got " + actual;
            return new JsonFormatException(source, parentPath, name, expected, actual, problem);
        }

        /**
         * @param problem a sentence about this value, e.g. {@code "is 3 but the history holds 2 epochs"}
         * @param expected what was expected
         * @return an exception naming the source and the place, with {@code problem} after this value's name
         */
        public JsonFormatException fail(String problem, String expected) {
            return new JsonFormatException(source, parentPath, name, expected, shown(json),
                    (name == null ? "" : name + " ") + problem);
        }

        /** @return the string value */
        public String text() {
            if (!json.isTextual()) {
                throw fail("a string");
            }
            return json.textValue();
        }

        /** @return the value as an {@code int} */
        public int integer() {
            if (!json.isIntegralNumber() || !json.canConvertToInt()) {
                throw fail("an int");
            }
            return json.intValue();
        }

        /** @return the value as a {@code long} */
        public long longInteger() {
            if (!json.isIntegralNumber() || !json.canConvertToLong()) {
                throw fail("a long integer");
            }
            return json.longValue();
        }

        /** @return the numeric value (NaN and infinities included) */
        public double number() {
            if (!json.isNumber()) {
                throw fail("a number");
            }
            return json.doubleValue();
        }

        /** @return the numeric value, which must be finite */
        public double finite() {
            double v = number();
            if (!Double.isFinite(v)) {
                throw new JsonFormatException(source, parentPath, name, "a finite number", Double.toString(v),
                        name + " is " + v + ", expected a finite number");
            }
            return v;
        }

        /** @return the boolean value */
        public boolean bool() {
            if (!json.isBoolean()) {
                throw fail("true or false");
            }
            return json.booleanValue();
        }

        /** @return the elements of this array, each with its place ({@code key[i]}) */
        public List<Node> elements() {
            if (!json.isArray()) {
                throw fail("an array");
            }
            List<Node> out = new ArrayList<>(json.size());
            String base = name == null ? "" : name;
            for (int i = 0; i < json.size(); i++) {
                out.add(new Node(source, parentPath, base + "[" + i + "]", json.get(i)));
            }
            return out;
        }

        /** @return the members of this object, in document order */
        public Map<String, Node> members() {
            requireObject();
            Map<String, Node> out = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = json.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                out.put(e.getKey(), new Node(source, path(), e.getKey(), e.getValue()));
            }
            return out;
        }

        /** @return this array of ints */
        public int[] integers() {
            if (!json.isArray()) {
                throw fail("an array of integers");
            }
            return elements().stream().mapToInt(Node::integer).toArray();
        }

        /** @return this array of finite numbers */
        public double[] finiteNumbers() {
            if (!json.isArray()) {
                throw fail("an array of numbers");
            }
            return elements().stream().mapToDouble(Node::finite).toArray();
        }

        /** @return this object's string values by key, in document order */
        public Map<String, String> textMembers() {
            Map<String, String> out = new LinkedHashMap<>();
            members().forEach((k, v) -> out.put(k, v.text()));
            return out;
        }

        @Override
        public String toString() {
            return JsonFormatException.where(source, path()) + " = " + shown(json);
        }
    }

    private static String shown(JsonNode v) {
        String s = v.isNumber() && !Double.isFinite(v.doubleValue()) ? Double.toString(v.doubleValue())
                : v.toString();
        return s.length() <= SHOWN ? s : s.substring(0, SHOWN) + "...";
    }
}
