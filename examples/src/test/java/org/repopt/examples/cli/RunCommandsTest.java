package org.repopt.examples.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.repopt.train.RunFolder;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11 on the command line: train, resume, search and export on a tiny generated Fashion-MNIST copy; every
 * refusal changes nothing and says what to do in terms of commands and flags.
 */
class RunCommandsTest {

    @TempDir
    static Path data;

    record Run(int exit, String err) {
    }

    @BeforeAll
    static void tinyFashionMnist() throws IOException {
        writeIdx(data.resolve("train-images-idx3-ubyte.gz"), 0x803, new int[]{32, 28, 28}, 1);
        writeIdx(data.resolve("train-labels-idx1-ubyte.gz"), 0x801, new int[]{32}, 0);
        writeIdx(data.resolve("t10k-images-idx3-ubyte.gz"), 0x803, new int[]{16, 28, 28}, 2);
        writeIdx(data.resolve("t10k-labels-idx1-ubyte.gz"), 0x801, new int[]{16}, 0);
    }

    /** An IDX file: random pixels (seed &gt; 0) or labels {@code i % 10} (seed 0). */
    static void writeIdx(Path file, int magic, int[] dims, long seed) throws IOException {
        int n = Arrays.stream(dims).reduce(1, (a, b) -> a * b);
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + n).putInt(magic);
        Arrays.stream(dims).forEach(b::putInt);
        byte[] body = new byte[n];
        if (seed > 0) {
            new Random(seed).nextBytes(body);
        } else {
            for (int i = 0; i < n; i++) {
                body[i] = (byte) (i % 10);
            }
        }
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(b.put(body).array());
        }
    }

    static Run run(String... args) {
        CommandLine cl = RepoptCli.commandLine();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(new StringWriter()));
        cl.setErr(new PrintWriter(err));
        java.io.PrintStream stdout = System.out;
        System.setOut(new java.io.PrintStream(new ByteArrayOutputStream()));
        try {
            return new Run(cl.execute(args), err.toString());
        } finally {
            System.setOut(stdout);
        }
    }

    /** {@code train} on the tiny copy: 1 epoch (unless {@code more} says) of 2 batches, no progress bar. */
    private static Run train(Path out, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--data-dir", data.toString(), "--batch", "16",
                "--no-progress", "--out", out.toString()));
        if (!List.of(more).contains("--epochs")) {
            args.addAll(List.of("--epochs", "1"));
        }
        args.addAll(List.of(more));
        return run(args.toArray(new String[0]));
    }

    private static void assertContains(String text, String... parts) {
        for (String p : parts) {
            assertTrue(text.contains(p), "'" + text + "' lacks '" + p + "'");
        }
    }

    // defect 1 (and 8: the advice is the command line's)

    @Test
    void aRefusedTrainLeavesTheRunItFoundAsItWas(@TempDir Path tmp) throws IOException {
        Path r = tmp.resolve("R");
        assertEquals(0, train(r, "--model", "vgg").exit());
        byte[] runJson = Files.readAllBytes(r.resolve(RunInfo.FILE));
        byte[] state = Files.readAllBytes(r.resolve("checkpoint.json"));

        Run again = train(r, "--model", "repvgg");
        assertEquals(2, again.exit());
        assertContains(again.err(), r + " already holds a run; continue it with ./repopt train --resume --out " + r);
        assertFalse(again.err().contains("Trainer."), again.err());
        assertArrayEquals(runJson, Files.readAllBytes(r.resolve(RunInfo.FILE)), "run.json unchanged");
        assertArrayEquals(state, Files.readAllBytes(r.resolve("checkpoint.json")), "checkpoint unchanged");
        assertEquals(0, run("export", "--run", r.toString()).exit(), "the run still exports");
    }

    @Test
    void aFolderInUseByALiveRunIsRefusedAsSuchAndNothingIsWritten(@TempDir Path tmp) throws IOException {
        Path r = tmp.resolve("R");
        try (RunFolder live = RunFolder.startNew(r)) {
            Files.write(r.resolve("metrics.jsonl"), new byte[0]);      // a live run in its first epoch
            Run second = train(r, "--model", "vgg");
            assertEquals(2, second.exit());
            assertContains(second.err(), "is in use by a training run that is still going (pid "
                    + ProcessHandle.current().pid(), "or choose another --out");
            assertFalse(second.err().contains("remove"), second.err());
            assertFalse(Files.exists(r.resolve(RunInfo.FILE)), "the refused run wrote nothing");
        }
        Run stale = train(r, "--model", "vgg");
        assertContains(stale.err(), "stopped before its first checkpoint (no run is using the folder)");
    }

    // defect 2

    @Test
    void exportRefusesToOverwriteTheRunsOwnFiles(@TempDir Path tmp) throws IOException {
        Path r = tmp.resolve("R");
        assertEquals(0, train(r, "--model", "vgg").exit());
        Path checkpoint = r.resolve("checkpoint-epoch-0001.zip");
        byte[] before = Files.readAllBytes(checkpoint);
        for (String name : List.of("checkpoint-epoch-0001.zip", "checkpoint.json", "metrics.jsonl", "run.json")) {
            Run e = run("export", "--run", r.toString(), "--out", r.resolve(name).toString());
            assertEquals(2, e.exit(), name);
            assertContains(e.err(), r.resolve(name).toString(), "write the output elsewhere");
        }
        assertArrayEquals(before, Files.readAllBytes(checkpoint));
        assertEquals(0, train(r, "--resume").exit(), "the run resumes as before");
    }

    // defect 5

    @Test
    void resumeRefusesFlagsThatContradictTheRunAndTakesTheRunsValuesOtherwise(@TempDir Path tmp)
            throws IOException {
        Path r = tmp.resolve("R");
        assertEquals(0, train(r, "--model", "vgg", "--wd", "0.001", "--epochs", "2").exit());
        Files.delete(r.resolve("checkpoint-epoch-0002.zip"));
        Run conflict = train(r, "--resume", "--model", "repvgg", "--wd", "0.01", "--momentum", "0.5", "--scales",
                "released:B1");
        assertEquals(2, conflict.exit());
        assertContains(conflict.err(), "cannot resume " + r, "--model repvgg (the run has vgg)",
                "--wd 0.01 (the run has 0.001)", "--momentum 0.5 (the run has 0.9)",
                "--scales released:B1 (the run has none)", "leave these flags out");
        Run epochs = train(r, "--resume");     // --epochs 1 is this helper's, the run has 2
        assertContains(epochs.err(), "--epochs 1 (the run has 2)");
        assertEquals(0, run("train", "--resume", "--out", r.toString(), "--data-dir", data.toString(),
                "--no-progress", "--model", "vgg", "--wd", "0.001").exit(), "agreeing flags are fine");
    }

    // defect 7 (and 8)

    @Test
    void errorsNameTheFileAndWhatWasExpected(@TempDir Path tmp) throws IOException {
        Run scales = train(tmp.resolve("S"), "--model", "repopt-vgg", "--scales", tmp.resolve("nope.json").toString());
        assertContains(scales.err(), "--scales " + tmp.resolve("nope.json") + ": no such file; expected a scales file");
        assertFalse(Files.exists(tmp.resolve("S")), "nothing created");

        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        assertContains(train(file, "--model", "vgg").err(), "--out " + file + " is an existing file; expected a folder");

        Run nothing = train(tmp.resolve("empty"), "--resume");
        assertContains(nothing.err(), "nothing to resume in " + tmp.resolve("empty"), "without --resume");

        Path r = tmp.resolve("R");
        assertEquals(0, train(r, "--model", "vgg").exit());
        Path zip = r.resolve("checkpoint-epoch-0001.zip");
        Files.write(zip, Arrays.copyOf(Files.readAllBytes(zip), 100));
        Run corrupt = run("export", "--run", r.toString());
        assertContains(corrupt.err(), zip + " has 100 bytes", "changed or damaged");

        String info = Files.readString(r.resolve(RunInfo.FILE));
        Files.writeString(r.resolve(RunInfo.FILE), info.substring(0, info.length() / 2));
        Run truncated = run("export", "--run", r.toString());
        assertContains(truncated.err(), r.resolve(RunInfo.FILE) + ": not valid JSON at line",
                "expected the run description");
    }

    @Test
    void searchWritesItsRunAndRefusesContradictingFlagsOnResume(@TempDir Path tmp) throws IOException {
        Path s = tmp.resolve("S");
        assertEquals(0, run("search", "--data-dir", data.toString(), "--batch", "16", "--epochs", "1",
                "--no-progress", "--out", s.toString()).exit());
        assertTrue(Files.exists(s.resolve("scales.json")));
        assertEquals("hs", RunInfo.read(s).model());
        Run conflict = run("search", "--resume", "--out", s.toString(), "--data-dir", data.toString(), "--wd",
                "0.5", "--variant", "B1");
        assertContains(conflict.err(), "--wd 0.5 (the run has 5.0E-4)", "--variant B1 (the run has small)");
        Run again = run("search", "--data-dir", data.toString(), "--out", s.toString(), "--no-progress");
        assertContains(again.err(), "continue it with ./repopt search --resume --out " + s);
    }
}
