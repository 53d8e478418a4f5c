package org.repopt.examples.cli;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.repopt.data.Datasets;
import org.repopt.model.LayerNames;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every example main class runs, in reading order, in its tiny setting ({@code -Drepopt.example.tiny=true}: a
 * 256-image subset, one epoch), and saves its model; the list, the README and the classes agree. The example that
 * needs the optional UI part runs in the {@code ui} module's tests.
 */
class ExamplesTest {

    /** What each example saves into its output folder. */
    private static final Map<String, List<String>> SAVES = Map.of(
            "one-line", List.of("one-line.zip"),
            "one-line-multilayer", List.of("one-line-multilayer.zip"),
            "repopt-vgg-fashion-mnist", List.of("fashion-mnist-scales.json", "repopt-vgg-fashion-mnist.zip"),
            "hyper-search-own-network", List.of("fashion-vgg-scales.json", "fashion-vgg.json", "fashion-vgg.zip"),
            "fine-tune", List.of("fine-tuned-4-classes.zip"),
            "export-deployable", List.of("repopt-vgg-deploy.zip", "repopt-vgg.onnx"));

    @Test
    void everyExampleRunsInItsTinySettingInReadingOrder(@TempDir Path out) throws Exception {
        assumeTrue(Files.isDirectory(Datasets.FASHION_MNIST_DIR),
                "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)");
        String before = System.getProperty("repopt.example.tiny");
        System.setProperty("repopt.example.tiny", "true");
        try {
            for (ExampleCommand.Example e : ExampleCommand.ALL) {
                if (e.needsUi()) {
                    continue;
                }
                ExampleCommand.run(e, new String[]{out.toString()});
                for (String file : SAVES.get(e.name())) {
                    assertTrue(Files.size(out.resolve(file)) > 0, e.name() + " did not save " + file);
                }
            }
        } finally {
            if (before == null) {
                System.clearProperty("repopt.example.tiny");
            } else {
                System.setProperty("repopt.example.tiny", before);
            }
        }
        ComputationGraph fineTuned = ComputationGraph.load(out.resolve("fine-tuned-4-classes.zip").toFile(), false);
        assertEquals(4, fineTuned.getLayer(LayerNames.LINEAR).getParam("b").length(), "the new class count");
        assertEquals(SAVES.keySet().size(), ExampleCommand.ALL.stream().filter(e -> !e.needsUi()).count());
    }

    @Test
    void theListTheReadmeAndTheClassesAgree() throws IOException {
        List<String> names = ExampleCommand.ALL.stream().map(ExampleCommand.Example::name).toList();
        CommandLine cl = RepoptCli.commandLine();
        cl.setErr(new PrintWriter(new StringWriter()));
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
        int exit;
        try {
            exit = cl.execute("example", "--list");
        } finally {
            System.setOut(stdout);
        }
        assertEquals(0, exit);
        List<String> listed = printed.toString(StandardCharsets.UTF_8).lines().map(l -> l.split(" ")[0]).toList();
        assertEquals(names, listed);

        Path readme = Path.of(System.getProperty("user.dir")).resolve("README.md");
        Matcher m = Pattern.compile("\\./repopt example ([a-z0-9][a-z0-9-]*)").matcher(Files.readString(readme));
        List<String> inReadme = new ArrayList<>();
        while (m.find()) {
            if (!inReadme.contains(m.group(1))) {
                inReadme.add(m.group(1));
            }
        }
        assertEquals(names, inReadme, "examples/README.md must present the examples in the order of --list");
        for (ExampleCommand.Example e : ExampleCommand.ALL) {
            String source = "src/main/java/" + e.className().replace('.', '/') + ".java";
            Path file = Path.of(System.getProperty("user.dir")).resolve(e.needsUi() ? "../ui/" + source : source);
            assertTrue(Files.isRegularFile(file), e.name() + ": " + file + " is missing");
            long lines = Files.readAllLines(file).size();
            assertTrue(lines >= 60 && lines <= 200, e.name() + ": " + lines + " lines; an example is 60-200 lines");
        }
    }

    @Test
    void anUnknownExampleOrTheUiOneWithoutTheUiPartAreClearErrors() {
        CommandLine cl = RepoptCli.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        assertEquals(2, cl.execute("example", "nope"));
        assertTrue(err.toString().contains("unknown example 'nope'") && err.toString().contains("one-line"),
                err.toString());
        StringWriter err2 = new StringWriter();
        cl.setErr(new PrintWriter(err2));
        assertEquals(2, cl.execute("example", "training-ui"));
        assertTrue(err2.toString().contains("-Pui"), err2.toString());
    }
}
