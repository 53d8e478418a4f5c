package org.repopt.ui;

import org.deeplearning4j.ui.VertxUIServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.repopt.data.Datasets;
import org.repopt.examples.cli.RepoptCli;
import org.repopt.examples.cli.TrainingUi;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code ./repopt train --ui --stats-file} with the UI part in the build: the address, the recording, its session. */
class CommandLineUiTest {

    @AfterEach
    void stopServer() throws Exception {
        VertxUIServer.stopInstance();
    }

    @Test
    void trainServesTheUiAndRecordsASessionNamedAfterTheRun(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isDirectory(Datasets.FASHION_MNIST_DIR),
                "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)");
        Path stats = dir.resolve("stats.dl4j");
        CommandLine cl = RepoptCli.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
        int exit;
        try {
            exit = cl.execute("train", "--model", "vgg", "--epochs", "1", "--warmup-epochs", "0", "--subset", "64",
                    "--batch", "32", "--no-progress", "--out", dir.resolve("ui-run").toString(), "--ui", "--ui-port",
                    "0", "--stats-file", stats.toString(), "--stats-every", "1");
        } finally {
            System.setOut(stdout);
        }
        String out = printed.toString(StandardCharsets.UTF_8);
        assertEquals(0, exit, err + out);
        assertTrue(out.matches("(?s).*training UI: http://localhost:\\d+/train/overview\n.*"), out);
        assertTrue(out.contains("view later with ./repopt ui " + stats), out);

        // the recording, served again the way `./repopt ui FILE` does
        String url = TrainingUi.require("test").serve(List.of(stats), 0);
        String base = url.substring(0, url.length() - Dl4jTrainingUi.OVERVIEW.length());
        HttpResponse<String> session = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(base + "/train/sessions/current")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals("ui-run", session.body());
    }
}
