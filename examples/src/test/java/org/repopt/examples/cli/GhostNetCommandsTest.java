package org.repopt.examples.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.repopt.gr.ScalesFile;
import org.repopt.model.GhostNetScales;
import org.repopt.model.GhostNetSpec;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RepOpt-GhostNet on the command line: {@code search --model repopt-ghostnet} writes scales of the width that
 * {@code train --model repopt-ghostnet --scales FILE} trains with; the released 0.5x scales are the default; scales
 * and widths that do not go together are refused by name.
 */
class GhostNetCommandsTest {

    @TempDir
    static Path data;

    private record Run(int exit, String out, String err) {
    }

    @BeforeAll
    static void tinyFashionMnist() throws IOException {
        RunCommandsTest.writeIdx(data.resolve("train-images-idx3-ubyte.gz"), 0x803, new int[]{32, 28, 28}, 1);
        RunCommandsTest.writeIdx(data.resolve("train-labels-idx1-ubyte.gz"), 0x801, new int[]{32}, 0);
        RunCommandsTest.writeIdx(data.resolve("t10k-images-idx3-ubyte.gz"), 0x803, new int[]{16, 28, 28}, 2);
        RunCommandsTest.writeIdx(data.resolve("t10k-labels-idx1-ubyte.gz"), 0x801, new int[]{16}, 0);
    }

    private static Run run(String... args) {
        CommandLine cl = RepoptCli.commandLine();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(new StringWriter()));
        cl.setErr(new PrintWriter(err));
        PrintStream stdout = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            int exit = cl.execute(args);
            return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(stdout);
        }
    }

    private static void assertContains(String text, String... parts) {
        for (String p : parts) {
            assertTrue(text.contains(p), "'" + text + "' lacks '" + p + "'");
        }
    }

    @Test
    void searchWritesScalesOfTheWidthThatTrainTakes(@TempDir Path tmp) throws IOException {
        Path s = tmp.resolve("search");
        Run search = run("search", "--model", "repopt-ghostnet", "--variant", "0.25x", "--data-dir", data.toString(),
                "--batch", "16", "--epochs", "1", "--no-progress", "--out", s.toString());
        assertEquals(0, search.exit(), search.err());
        assertContains(search.out(), "Hyper-Search of RepOptGhostNet-0.25x", "scales=" + s.resolve("scales.json"));
        RunInfo info = RunInfo.read(s);
        assertEquals("ghostnet-hs", info.model());
        assertEquals("0.25x", info.variant());
        ScalesFile scales = ScalesFile.read(s.resolve("scales.json"));
        assertEquals("RepOptGhostNet-0.25x", scales.model());
        GhostNetScales.requireFits(scales, GhostNetSpec.of(0.25));

        Run conflict = run("search", "--resume", "--out", s.toString(), "--data-dir", data.toString(), "--model",
                "repopt-vgg");
        assertContains(conflict.err(), "--model repopt-vgg (the run has repopt-ghostnet)");

        Path t = tmp.resolve("train");
        Run train = run("train", "--model", "repopt-ghostnet", "--variant", "0.25x", "--scales",
                s.resolve("scales.json").toString(), "--data-dir", data.toString(), "--batch", "16", "--epochs", "1",
                "--no-progress", "--out", t.toString());
        assertEquals(0, train.exit(), train.err());
        assertContains(train.out(), "RepOptGhostNet-0.25x on fashion-mnist", "test_accuracy=");
        assertEquals("repopt-ghostnet", RunInfo.read(t).model());
        assertEquals(s.resolve("scales.json").toAbsolutePath().normalize().toString(), RunInfo.read(t).scales());

        Run export = run("export", "--run", t.toString());
        assertEquals(0, export.exit(), export.err());
        assertContains(export.out(), "RepOptGhostNet-0.25x deploy model");
        assertTrue(Files.exists(t.resolve("deploy.zip")));
        Run exportSearch = run("export", "--run", s.toString());
        assertContains(exportSearch.err(), "not a plain deploy model", "train RepOpt-GhostNet with them");
    }

    @Test
    void theReleasedScalesAreTheDefaultOfTheHalfWidth(@TempDir Path tmp) throws IOException {
        Path t = tmp.resolve("train");
        Run train = run("train", "--model", "repopt-ghostnet", "--data-dir", data.toString(), "--batch", "16",
                "--epochs", "1", "--subset", "16", "--no-progress", "--out", t.toString());
        assertEquals(0, train.exit(), train.err());
        RunInfo info = RunInfo.read(t);
        assertEquals("0.5x", info.variant());
        assertEquals("released:0.5x", info.scales());
        assertContains(train.out(), "RepOptGhostNet-0.5x on fashion-mnist");
    }

    @Test
    void scalesAndWidthsThatDoNotGoTogetherAreRefused(@TempDir Path tmp) {
        Run noScales = run("train", "--model", "repopt-ghostnet", "--variant", "1.0x", "--data-dir", data.toString(),
                "--no-progress", "--out", tmp.resolve("a").toString());
        assertContains(noScales.err(), "--variant 1.0x needs --scales FILE",
                "./repopt search --model repopt-ghostnet --variant 1.0x");
        Run vggScales = run("train", "--model", "repopt-ghostnet", "--scales", "released:B1", "--data-dir",
                data.toString(), "--no-progress", "--out", tmp.resolve("b").toString());
        assertContains(vggScales.err(), "B1");
        Run wrongWidth = run("train", "--model", "repopt-ghostnet", "--variant", "0.25x", "--scales", "released:0.5x",
                "--data-dir", data.toString(), "--no-progress", "--out", tmp.resolve("c").toString());
        assertContains(wrongWidth.err(), "RepOptGhostNet-0.25x");
        Run hsScales = run("train", "--model", "ghostnet-hs", "--scales", "released:0.5x", "--data-dir",
                data.toString(), "--no-progress", "--out", tmp.resolve("d").toString());
        assertContains(hsScales.err(), "--scales applies to --model repopt-vgg and repopt-ghostnet only");
        Run badSearch = run("search", "--model", "repvgg", "--data-dir", data.toString(), "--no-progress", "--out",
                tmp.resolve("e").toString());
        assertContains(badSearch.err(), "--model repvgg: a search finds the scales of repopt-vgg or repopt-ghostnet");
        assertTrue(Files.notExists(tmp.resolve("a")) && Files.notExists(tmp.resolve("c")), "nothing written");
    }
}
