package org.repopt.examples.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code ./repopt ui FILE...}: DL4J's training UI on statistics recorded with {@code train --stats-file}. */
@Command(name = "ui", mixinStandardHelpOptions = true,
        description = {"Serve DL4J's training UI on localhost for statistics recorded with train --stats-file, until "
                + "Ctrl+C.", "Uses the build's optional UI part, which ./repopt adds by itself."})
final class UiCommand implements Callable<Integer> {

    @Parameters(arity = "1..*", paramLabel = "FILE", description = "Statistics files (train --stats-file).")
    private List<Path> files;

    @Option(names = "--port", defaultValue = "" + ListenerArgs.DEFAULT_UI_PORT, paramLabel = "PORT",
            description = "Port (default: ${DEFAULT-VALUE}; 0: any free port).")
    private int port;

    @Override
    public Integer call() throws Exception {
        TrainingUi ui = TrainingUi.require("./repopt ui");
        for (Path f : files) {
            if (!Files.isRegularFile(f)) {
                throw new IllegalArgumentException("statistics file " + f + " does not exist");
            }
        }
        if (port < 0 || port > 0xFFFF) {
            throw new IllegalArgumentException("--port must be in 0..65535, got " + port);
        }
        String url = ui.serve(files, port);
        System.out.println("training UI: " + url + " (Ctrl+C to stop)");
        new CountDownLatch(1).await();
        return 0;
    }
}
