package org.repopt.ui;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.ui.VertxUIServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.repopt.examples.cli.TrainingUi;
import org.repopt.model.BlockSpec;
import org.repopt.model.CslaVgg;
import org.repopt.model.LayerNames;
import org.repopt.model.VggSpec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DL4J's training UI on our model family, read back over HTTP the way its pages read it: the session, the iteration
 * count, and per-layer entries for our own layers (the engine-selecting conv, the channel scale).
 */
class TrainingUiServerTest {

    private static final int ITERATIONS = 6;
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    /** The Hyper-Search model has every custom layer: 3x3 and 1x1 convs side by side, channel scales, identity. */
    private final VggSpec spec = VggSpec.builder("tiny").input(3, 8, 8).classes(3).stem(4, 2).stage(2, 6, 1).build();

    @AfterEach
    void stopServer() throws Exception {
        VertxUIServer.stopInstance();
    }

    private ComputationGraph trainedWith(TrainingUi.Recording recording) {
        ComputationGraph net = CslaVgg.builder(spec).dataType(DataType.FLOAT).seed(1).build().init();
        net.setListeners(recording.listener());
        Random r = new Random(7);
        for (int i = 0; i < ITERATIONS; i++) {
            float[] x = new float[4 * 3 * 8 * 8];
            for (int k = 0; k < x.length; k++) {
                x[k] = (float) r.nextGaussian();
            }
            var labels = Nd4j.zeros(DataType.FLOAT, 4, 3);
            for (int n = 0; n < 4; n++) {
                labels.putScalar(n, r.nextInt(3), 1.0);
            }
            net.fit(new DataSet(Nd4j.create(x, new long[]{4, 3, 8, 8}), labels));
        }
        return net;
    }

    private String get(String base, String path) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + path))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), path + ": " + r.body());
        return r.body();
    }

    /**
     * The UI takes in a new session and new statistics asynchronously (every 500 ms): the first reading of page
     * {@code path} that is ready, within 60 s.
     *
     * @param read what a body says, null for an empty one
     */
    private <T> T await(String base, String path, Function<String, T> read, Predicate<T> ready) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        T last = null;
        while (System.nanoTime() < deadline) {
            String body = get(base, path);
            last = body.isEmpty() ? null : read.apply(body);
            if (last != null && ready.test(last)) {
                return last;
            }
            Thread.sleep(250);
        }
        throw new AssertionError(path + " did not become ready within 60 s; last: " + last);
    }

    /** @return the first JSON of page {@code path} that is {@code ready}, within 60 s */
    private JsonNode await(String base, String path, Predicate<JsonNode> ready) throws Exception {
        return await(base, path, body -> {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new UncheckedIOException(path + ": not JSON: " + body, e);
            }
        }, ready);
    }

    private static String base(String overviewUrl) {
        assertTrue(overviewUrl.startsWith("http://localhost:") && overviewUrl.endsWith(Dl4jTrainingUi.OVERVIEW),
                overviewUrl);
        return overviewUrl.substring(0, overviewUrl.length() - Dl4jTrainingUi.OVERVIEW.length());
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static String row(JsonNode table, String label) {
        for (JsonNode r : table) {
            if (r.get(0).asText().equals(label)) {
                return r.get(1).asText();
            }
        }
        throw new AssertionError("no row '" + label + "' in " + table);
    }

    @Test
    void theCommandLineFindsTheUi() {
        assertInstanceOf(Dl4jTrainingUi.class, TrainingUi.find().orElseThrow());
    }

    @Test
    void theUiShowsTheSessionTheIterationsAndOurLayers() throws Exception {
        TrainingUi ui = TrainingUi.require("test");
        try (TrainingUi.Recording recording = ui.record("ui-test-session", null, 0, 1)) {
            String base = base(recording.url().orElseThrow());
            ComputationGraph net = trainedWith(recording);

            // the page is empty until the UI has taken the session in
            assertEquals("ui-test-session", await(base, "/train/sessions/current", body -> body, body -> true));
            JsonNode overview = await(base, "/train/overview/data", o -> o.get("scoresIter").size() == ITERATIONS);
            List<Integer> iterations = new ArrayList<>();
            overview.get("scoresIter").forEach(n -> iterations.add(n.asInt()));
            assertEquals(List.of(0, 1, 2, 3, 4, 5), iterations);
            assertEquals("ComputationGraph", overview.get("model").get(0).get(1).asText());
            assertEquals(net.numParams(), overview.get("model").get(2).get(1).asLong());
            assertEquals(ITERATIONS, Integer.parseInt(overview.get("perf").get(3).get(1).asText()));

            // per-layer entries for our layers: kernel update ratios, activations of the channel scales
            List<String> ratioKeys = new ArrayList<>();
            overview.get("updateRatios").fieldNames().forEachRemaining(ratioKeys::add);
            List<String> activationKeys = new ArrayList<>();
            overview.get("stdevActivations").fieldNames().forEachRemaining(activationKeys::add);
            for (BlockSpec b : spec.blocks()) {
                String n = b.name();
                assertTrue(ratioKeys.contains(LayerNames.conv(n) + "_W"), n + ": " + ratioKeys);
                assertTrue(ratioKeys.contains(LayerNames.conv1x1(n) + "_W"), n + ": " + ratioKeys);
                assertTrue(activationKeys.containsAll(List.of(LayerNames.scaleConv(n), LayerNames.scale1x1(n))),
                        n + ": " + activationKeys);
            }

            List<String> vertices = texts(JSON.readTree(get(base, "/train/model/graph")).get("vertexNames"));
            BlockSpec identityBlock = spec.blocks().stream().filter(BlockSpec::hasIdentity).findFirst().orElseThrow();
            String n = identityBlock.name();
            Map<String, List<String>> ownParams = Map.of(LayerNames.conv(n), List.of("W"),
                    LayerNames.conv1x1(n), List.of("W"), LayerNames.scaleConv(n), List.of("scale"),
                    LayerNames.scaleIdentity(n), List.of("scale"), LayerNames.bn(n),
                    List.of("beta", "gamma", "log10stdev", "mean"));
            for (Map.Entry<String, List<String>> e : ownParams.entrySet()) {
                int index = vertices.indexOf(e.getKey());
                assertTrue(index >= 0, e.getKey() + " not in " + vertices);
                JsonNode page = JSON.readTree(get(base, "/train/model/data/" + index));
                List<String> params = texts(page.get("paramHist").get("paramNames"));
                params.sort(null);
                assertEquals(e.getValue(), params, "the parameters on the page of " + e.getKey());
                JsonNode info = page.get("layerInfo");
                assertEquals(e.getKey(), row(info, "Layer Name"));
                if (e.getKey().contains("scale")) {
                    assertEquals("ChannelScale", row(info, "Layer Type"));
                    assertEquals("identity", row(info, "Activation Function"), "a channel scale applies none");
                }
                if (e.getKey().equals(LayerNames.conv(n)) || e.getKey().equals(LayerNames.conv1x1(n))) {
                    assertEquals("EngineSelectingConvolution", row(info, "Layer Type"));
                }
            }
        }
    }

    @Test
    void aStatsFileIsViewableLater(@TempDir Path dir) throws Exception {
        TrainingUi ui = TrainingUi.require("test");
        Path file = dir.resolve("stats.dl4j");
        try (TrainingUi.Recording recording = ui.record("recorded-session", file, null, 2)) {
            assertFalse(recording.url().isPresent(), "no server without a port");
            trainedWith(recording);
        }
        String base = base(ui.serve(List.of(file), 0));
        assertEquals("recorded-session", get(base, "/train/sessions/current"));
        // DL4J reports every 2nd iteration after the first: 2 and 4 of 0..5
        JsonNode overview = await(base, "/train/overview/data", o -> o.get("scoresIter").size() == 2);
        List<Integer> iterations = new ArrayList<>();
        overview.get("scoresIter").forEach(i -> iterations.add(i.asInt()));
        assertEquals(List.of(2, 4), iterations);
    }
}
