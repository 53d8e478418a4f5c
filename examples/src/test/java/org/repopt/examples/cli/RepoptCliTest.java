package org.repopt.examples.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line: help everywhere, clear errors for unknown options and bad values. */
class RepoptCliTest {

    private record Run(int exit, String out, String err) {
    }

    private static Run run(String... args) {
        CommandLine cl = RepoptCli.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void topLevelHelpListsEveryCommand() {
        Run r = run("--help");
        assertEquals(0, r.exit());
        for (String c : new String[]{"demo", "train", "search", "export", "quantize", "bench", "models", "ui", "example"}) {
            assertTrue(r.out().contains(c), "help lacks " + c + ":\n" + r.out());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"demo", "train", "search", "export", "quantize", "bench", "models", "ui", "example"})
    void everyCommandHasHelp(String command) {
        Run r = run(command, "--help");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("Usage: repopt " + command), r.out());
    }

    @Test
    void unknownOptionIsAClearError() {
        Run r = run("train", "--epohcs", "3");
        assertNotEquals(0, r.exit());
        assertTrue(r.err().contains("Unknown option") && r.err().contains("'--epohcs'"), r.err());
    }

    @Test
    void badValuesAreClearErrors() {
        Run model = run("train", "--model", "resnet", "--no-progress");
        assertEquals(2, model.exit());
        assertTrue(model.err().contains("unknown model 'resnet'"), model.err());
        Run number = run("train", "--epochs", "three");
        assertNotEquals(0, number.exit());
        assertTrue(number.err().contains("--epochs") && number.err().contains("three"), number.err());
        Run data = run("train", "--dataset", "cifar10", "--model", "vgg");
        assertEquals(2, data.exit());
        assertTrue(data.err().contains("--data-dir"), data.err());
        Run preset = run("bench", "--preset", "huge");
        assertEquals(2, preset.exit());
        assertTrue(preset.err().contains("unknown preset 'huge'"), preset.err());
    }

    @Test
    void modelsPrintsThePapersVariants() {
        Run r = run("models");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("RepOpt-VGG-B1    params=51.84M  macs=11.8G  input=3x224x224"), r.out());
        assertTrue(r.out().contains("RepOpt-VGG-small"), r.out());
        assertTrue(r.out().contains("RepOptGhostNet-0.5x") && r.out().contains("(2,309,008 parameters)")
                && r.out().contains("RepOptGhostNet-HS-0.5x") && r.out().contains("(2,313,968 parameters)"), r.out());
    }
}
