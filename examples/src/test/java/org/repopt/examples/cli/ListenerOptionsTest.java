package org.repopt.examples.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.repopt.model.BlockSpec;
import org.repopt.model.CslaVgg;
import org.repopt.model.LayerNames;
import org.repopt.model.VggSpec;
import org.repopt.train.GradMultEffectListener;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The training options for DL4J listeners. This module's tests run without the optional UI part (the {@code ui}
 * profile's module depends on this one, not the other way round), so they see what a default build's user sees.
 */
class ListenerOptionsTest {

    private record Run(int exit, String err) {
    }

    private static Run run(String... args) {
        CommandLine cl = RepoptCli.commandLine();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(new StringWriter()));
        cl.setErr(new PrintWriter(err));
        return new Run(cl.execute(args), err.toString());
    }

    @Test
    void theUiOptionsWithoutTheUiPartSayHowToBuildIt(@TempDir Path dir) {
        assertTrue(TrainingUi.find().isEmpty(), "the default build has no UI");
        for (String[] args : List.of(new String[]{"train", "--ui"},
                new String[]{"train", "--stats-file", dir.resolve("s.dl4j").toString()},
                new String[]{"ui", dir.resolve("s.dl4j").toString()})) {
            Run r = run(args);
            assertEquals(2, r.exit(), String.join(" ", args) + ": " + r.err());
            assertTrue(r.err().contains("needs DL4J's training UI") && r.err().contains("REPOPT_MAVEN_ARGS=-Pui"),
                    String.join(" ", args) + ": " + r.err());
        }
    }

    @Test
    void badListenerOptionsAreClearErrors() {
        String[][] cases = {
                {"no.such.Listener", "no class no.such.Listener"},
                {"java.lang.String", "is not a org.deeplearning4j.optimize.api.TrainingListener"},
                {"org.deeplearning4j.optimize.listeners.PerformanceListener", "no public constructor without argument"},
                {"org.deeplearning4j.optimize.listeners.ScoreIterationListener:ten", "must be an integer"}};
        for (String[] c : cases) {
            Run r = run("train", "--listener", c[0]);
            assertEquals(2, r.exit(), c[0] + ": " + r.err());
            assertTrue(r.err().contains("--listener " + c[0]) && r.err().contains(c[1]), r.err());
        }
        Run port = run("train", "--ui-port", "70000");
        assertEquals(2, port.exit());
        assertTrue(port.err().contains("--ui-port"), port.err());
    }

    /** A CIFAR-10 folder of generated images: 5 x 8 training and 8 test records (the real one is not downloadable). */
    private static Path tinyCifar10(Path dir) throws IOException {
        Random r = new Random(1);
        Files.createDirectories(dir);
        for (String name : List.of("data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
                "data_batch_5.bin", "test_batch.bin")) {
            byte[] records = new byte[8 * 3073];
            r.nextBytes(records);
            for (int i = 0; i < 8; i++) {
                records[i * 3073] = (byte) (i % 10);
            }
            Files.write(dir.resolve(name), records);
        }
        return dir;
    }

    @Test
    void aRunLogsTheGradMultEffectAndTakesAnyDl4jListener(@TempDir Path dir) throws IOException {
        VggSpec spec = ModelArgs.spec("small").withInput(3, 32, 32).withClasses(10);
        Path scales = dir.resolve("scales.json");
        CslaVgg.initialScales(spec).write(scales);
        Path out = dir.resolve("run");
        Run r = run("train", "--dataset", "cifar10", "--data-dir", tinyCifar10(dir.resolve("cifar")).toString(),
                "--model", "repopt-vgg", "--scales", scales.toString(), "--epochs", "1", "--warmup-epochs", "0", "--batch", "8",
                "--no-progress", "--out", out.toString(), "--grad-mult-stats", "--stats-every", "2",
                "--listener", "org.deeplearning4j.optimize.listeners.ScoreIterationListener:1",
                "--listener", "org.deeplearning4j.optimize.listeners.PerformanceListener:1");
        assertEquals(0, r.exit(), r.err());
        List<String> lines = Files.readAllLines(out.resolve(GradMultEffectListener.FILE));
        Set<String> layers = new TreeSet<>();
        Set<Integer> iterations = new TreeSet<>();
        ObjectMapper mapper = new ObjectMapper();
        for (String line : lines) {
            JsonNode o = mapper.readTree(line);
            layers.add(o.get("layer").asText());
            iterations.add(o.get("iteration").asInt());
            assertTrue(o.get("gain").asDouble() > 0 && o.get("update_param_ratio").asDouble() >= 0, line);
        }
        assertEquals(new TreeSet<>(spec.blocks().stream().map(BlockSpec::name).map(LayerNames::conv).toList()),
                layers);
        assertEquals(Set.of(0, 2, 4), iterations, "5 iterations, every 2nd logged");
    }
}
