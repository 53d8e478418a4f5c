package org.repopt.examples.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.repopt.gr.ScalesFile;
import org.repopt.model.GhostNetScales;
import org.repopt.model.GhostNetSpec;

import java.io.IOException;
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

    @BeforeAll
    static void tinyFashionMnist() throws IOException {
        RunCommandsTest.writeIdx(data.resolve("train-images-idx3-ubyte.gz"), 0x803, new int[]{32, 28, 28}, 1);
        RunCommandsTest.writeIdx(data.resolve("train-labels-idx1-ubyte.gz"), 0x801, new int[]{32}, 0);
        RunCommandsTest.writeIdx(data.resolve("t10k-images-idx3-ubyte.gz"), 0x803, new int[]{16, 28, 28}, 2);
        RunCommandsTest.writeIdx(data.resolve("t10k-labels-idx1-ubyte.gz"), 0x801, new int[]{16}, 0);
    }

    @Test
    void searchWritesScalesOfTheWidthThatTrainTakes(@TempDir Path tmp) throws IOException {
        Path s = tmp.resolve("search");
        CapturedRun search = CapturedRun.of("search", "--model", "repopt-ghostnet", "--variant", "0.25x", "--data-dir", data.toString(),
                "--batch", "16", "--epochs", "1", "--no-progress", "--out", s.toString());
        assertEquals(0, search.exit(), search.err());
        CapturedRun.assertContains(search.out(), "Hyper-Search of RepOptGhostNet-0.25x", "scales=" + s.resolve("scales.json"));
        RunInfo info = RunInfo.read(s);
        assertEquals("ghostnet-hs", info.model());
        assertEquals("0.25x", info.variant());
        ScalesFile scales = ScalesFile.read(s.resolve("scales.json"));
        assertEquals("RepOptGhostNet-0.25x", scales.model());
        GhostNetScales.requireFits(scales, GhostNetSpec.of(0.25));

        CapturedRun conflict = CapturedRun.of("search", "--resume", "--out", s.toString(), "--data-dir", data.toString(), "--model",
                "repopt-vgg");
        CapturedRun.assertContains(conflict.err(), "--model repopt-vgg (the run has repopt-ghostnet)");

        Path t = tmp.resolve("train");
        CapturedRun train = CapturedRun.of("train", "--model", "repopt-ghostnet", "--variant", "0.25x", "--scales",
                s.resolve("scales.json").toString(), "--data-dir", data.toString(), "--batch", "16", "--epochs", "1",
                "--no-progress", "--out", t.toString());
        assertEquals(0, train.exit(), train.err());
        CapturedRun.assertContains(train.out(), "RepOptGhostNet-0.25x on fashion-mnist", "test_accuracy=");
        assertEquals("repopt-ghostnet", RunInfo.read(t).model());
        assertEquals(s.resolve("scales.json").toAbsolutePath().normalize().toString(), RunInfo.read(t).scales());

        CapturedRun export = CapturedRun.of("export", "--run", t.toString());
        assertEquals(0, export.exit(), export.err());
        CapturedRun.assertContains(export.out(), "RepOptGhostNet-0.25x deploy model");
        assertTrue(Files.exists(t.resolve("deploy.zip")));
        CapturedRun exportSearch = CapturedRun.of("export", "--run", s.toString());
        CapturedRun.assertContains(exportSearch.err(), "not a plain deploy model", "train RepOpt-GhostNet with them");
    }

    @Test
    void theReleasedScalesAreTheDefaultOfTheHalfWidth(@TempDir Path tmp) throws IOException {
        Path t = tmp.resolve("train");
        CapturedRun train = CapturedRun.of("train", "--model", "repopt-ghostnet", "--data-dir", data.toString(), "--batch", "16",
                "--epochs", "1", "--subset", "16", "--no-progress", "--out", t.toString());
        assertEquals(0, train.exit(), train.err());
        RunInfo info = RunInfo.read(t);
        assertEquals("0.5x", info.variant());
        assertEquals("released:0.5x", info.scales());
        CapturedRun.assertContains(train.out(), "RepOptGhostNet-0.5x on fashion-mnist");
    }

    @Test
    void scalesAndWidthsThatDoNotGoTogetherAreRefused(@TempDir Path tmp) {
        CapturedRun noScales = CapturedRun.of("train", "--model", "repopt-ghostnet", "--variant", "1.0x", "--data-dir", data.toString(),
                "--no-progress", "--out", tmp.resolve("a").toString());
        CapturedRun.assertContains(noScales.err(), "--variant 1.0x needs --scales FILE",
                "./repopt search --model repopt-ghostnet --variant 1.0x");
        CapturedRun vggScales = CapturedRun.of("train", "--model", "repopt-ghostnet", "--scales", "released:B1", "--data-dir",
                data.toString(), "--no-progress", "--out", tmp.resolve("b").toString());
        CapturedRun.assertContains(vggScales.err(), "B1");
        CapturedRun wrongWidth = CapturedRun.of("train", "--model", "repopt-ghostnet", "--variant", "0.25x", "--scales", "released:0.5x",
                "--data-dir", data.toString(), "--no-progress", "--out", tmp.resolve("c").toString());
        CapturedRun.assertContains(wrongWidth.err(), "RepOptGhostNet-0.25x");
        CapturedRun hsScales = CapturedRun.of("train", "--model", "ghostnet-hs", "--scales", "released:0.5x", "--data-dir",
                data.toString(), "--no-progress", "--out", tmp.resolve("d").toString());
        CapturedRun.assertContains(hsScales.err(), "--scales applies to --model repopt-vgg and repopt-ghostnet only");
        CapturedRun badSearch = CapturedRun.of("search", "--model", "repvgg", "--data-dir", data.toString(), "--no-progress", "--out",
                tmp.resolve("e").toString());
        CapturedRun.assertContains(badSearch.err(), "--model repvgg: a search finds the scales of repopt-vgg or repopt-ghostnet");
        assertTrue(Files.notExists(tmp.resolve("a")) && Files.notExists(tmp.resolve("c")), "nothing written");
    }
}
