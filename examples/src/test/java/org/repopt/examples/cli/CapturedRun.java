package org.repopt.examples.cli;

import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One command line run in-process with its exit code, standard output and error captured (the CLI tests that read
 * what a command prints).
 */
record CapturedRun(int exit, String out, String err) {

    /** Runs {@code ./repopt ARGS} in this JVM. */
    static CapturedRun of(String... args) {
        CommandLine cl = RepoptCli.commandLine();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(new StringWriter()));
        cl.setErr(new PrintWriter(err));
        PrintStream stdout = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            int exit = cl.execute(args);
            return new CapturedRun(exit, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(stdout);
        }
    }

    /** @return the last line of standard output */
    String lastLine() {
        String[] lines = out.strip().split("\n");
        return lines[lines.length - 1];
    }

    /** Asserts that {@code text} contains every one of {@code parts}. */
    static void assertContains(String text, String... parts) {
        for (String p : parts) {
            assertTrue(text.contains(p), "'" + text + "' lacks '" + p + "'");
        }
    }
}
