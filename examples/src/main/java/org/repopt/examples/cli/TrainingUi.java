package org.repopt.examples.cli;

import org.deeplearning4j.optimize.api.TrainingListener;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * The command line's door to DL4J's training UI ({@code deeplearning4j-ui}: {@code UIServer}, {@code StatsListener},
 * {@code FileStatsStorage}), an optional part of the build. The default build does not contain it, so the command
 * line finds it at run time with {@link ServiceLoader}: the {@code ui} Maven profile adds the {@code repopt-ui}
 * module, whose implementation is listed in its {@code META-INF/services}. Without it, {@link #require} says how to
 * build it.
 */
public interface TrainingUi {

    /** How to get the UI into the build, for messages. */
    String HOW_TO_ENABLE = "DL4J's training UI, an optional part of the build (the Maven profile 'ui', 52 MB more to "
            + "download) that this build lacks; ./repopt adds it by itself for --ui, --stats-file, ui and example "
            + "training-ui, or build it with: REPOPT_MAVEN_ARGS=-Pui ./repopt ... (mvn -Pui package)";

    /**
     * Starts recording a training session.
     *
     * @param sessionId the session's name in the UI
     * @param statsFile where to store the statistics ({@code FileStatsStorage}, viewable later with
     *                  {@code ./repopt ui FILE}), or {@code null} to keep them in memory
     * @param port      the port to serve the UI on, on localhost ({@code 0}: any free port), or {@code null} for no
     *                  server
     * @param every     collect statistics every {@code every}-th iteration
     * @return the recording: its listener goes onto the network
     * @throws IOException           when the statistics file cannot be created
     * @throws IllegalStateException when the server cannot start (e.g. the port is taken)
     */
    Recording record(String sessionId, Path statsFile, Integer port, int every) throws IOException;

    /**
     * Serves recorded statistics files until the process ends.
     *
     * @param statsFiles files written by a recording
     * @param port       the port on localhost ({@code 0}: any free port)
     * @return the UI's address
     * @throws IOException           when a file cannot be read
     * @throws IllegalStateException when the server cannot start
     */
    String serve(List<Path> statsFiles, int port) throws IOException;

    /** A training session being recorded; closing it stops its server and closes its storage. */
    interface Recording extends AutoCloseable {

        /** @return the {@code StatsListener} to attach to the network */
        TrainingListener listener();

        /** @return the address of the training page, when a server runs */
        Optional<String> url();

        @Override
        void close();
    }

    /** @return the UI, when the build contains it */
    static Optional<TrainingUi> find() {
        return ServiceLoader.load(TrainingUi.class).findFirst();
    }

    /**
     * @param option the option or command that needs the UI, for the message
     * @return the UI
     * @throws IllegalStateException when the build does not contain it, saying how to build it
     */
    static TrainingUi require(String option) {
        return find().orElseThrow(() -> new IllegalStateException(option + " needs " + HOW_TO_ENABLE));
    }
}
