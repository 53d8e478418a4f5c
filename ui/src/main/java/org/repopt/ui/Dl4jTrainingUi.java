package org.repopt.ui;

import org.deeplearning4j.core.storage.StatsStorage;
import org.deeplearning4j.exception.DL4JException;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.deeplearning4j.ui.VertxUIServer;
import org.deeplearning4j.ui.model.stats.StatsListener;
import org.deeplearning4j.ui.model.storage.FileStatsStorage;
import org.deeplearning4j.ui.model.storage.InMemoryStatsStorage;
import org.repopt.examples.cli.TrainingUi;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The command line's training UI: DL4J's own {@code UIServer} (one per JVM), {@code StatsListener} and
 * {@code FileStatsStorage} / {@code InMemoryStatsStorage}, nothing of ours in between. Listed in
 * {@code META-INF/services/org.repopt.examples.cli.TrainingUi}.
 */
public final class Dl4jTrainingUi implements TrainingUi {

    /** The page a browser opens first. */
    public static final String OVERVIEW = "/train/overview";

    @Override
    public Recording record(String sessionId, Path statsFile, Integer port, int every) throws IOException {
        Objects.requireNonNull(sessionId, "sessionId");
        if (every < 1) {
            throw new IllegalArgumentException("statistics every " + every + " iterations: must be >= 1");
        }
        StatsStorage storage = statsFile == null ? new InMemoryStatsStorage() : newFileStorage(statsFile);
        VertxUIServer server = null;
        if (port != null) {
            try {
                server = start(port);
                server.attach(storage);
            } catch (RuntimeException e) {
                closeQuietly(storage);
                throw e;
            }
        }
        return new StatsRecording(new StatsListener(storage, every, sessionId), storage, server);
    }

    @Override
    public String serve(List<Path> statsFiles, int port) throws IOException {
        List<StatsStorage> storages = new ArrayList<>();
        for (Path f : statsFiles) {
            if (!Files.isRegularFile(f)) {
                throw new IllegalArgumentException("statistics file " + f + " does not exist");
            }
            try {
                storages.add(new FileStatsStorage(f.toFile()));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("statistics file " + f + " is not a DL4J FileStatsStorage file: "
                        + e.getMessage(), e);
            }
        }
        VertxUIServer server = start(port);
        storages.forEach(server::attach);
        // the files stay open until the process ends (Ctrl+C): close them cleanly then
        Runtime.getRuntime().addShutdownHook(new Thread(() -> storages.forEach(Dl4jTrainingUi::closeQuietly),
                "close training statistics"));
        return server.getAddress() + OVERVIEW;
    }

    /** A stats file is always new: DL4J would add a session to an existing one, ours never writes over a file. */
    private static StatsStorage newFileStorage(Path statsFile) throws IOException {
        if (Files.exists(statsFile)) {
            throw new IllegalArgumentException("statistics file " + statsFile + " already exists; record into a new "
                    + "file");
        }
        Path parent = statsFile.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        return new FileStatsStorage(statsFile.toFile());
    }

    private static VertxUIServer start(int port) {
        VertxUIServer running = VertxUIServer.getInstance();
        if (running != null && !running.isStopped()) {
            if (port != 0 && running.getPort() != port) {
                throw new IllegalStateException("DL4J's training UI already runs in this JVM on port "
                        + running.getPort() + ", not " + port);
            }
            return running;
        }
        try {
            return VertxUIServer.getInstance(port, false, null);
        } catch (DL4JException e) {
            throw new IllegalStateException("cannot start DL4J's training UI on port " + port + " ("
                    + rootMessage(e) + "); pick another port (0: any free port)", e);
        }
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null) {
            c = c.getCause();
        }
        return c.getMessage() == null ? c.toString() : c.getMessage();
    }

    private static void closeQuietly(StatsStorage storage) {
        try {
            storage.close();
        } catch (IOException ignored) {
            // the original failure is what matters
        }
    }

    /** A recording: a {@code StatsListener} writing into a storage, served or not. */
    private static final class StatsRecording implements Recording {
        private final StatsListener listener;
        private final StatsStorage storage;
        private final VertxUIServer server;
        /** Closes the storage when the process ends (Ctrl+C) before the recording is closed: a MapDB file left
         *  open may not be readable again. */
        private final Thread closeOnExit;

        StatsRecording(StatsListener listener, StatsStorage storage, VertxUIServer server) {
            this.listener = listener;
            this.storage = storage;
            this.server = server;
            this.closeOnExit = new Thread(() -> closeQuietly(storage), "close training statistics");
            Runtime.getRuntime().addShutdownHook(closeOnExit);
        }

        @Override
        public TrainingListener listener() {
            return listener;
        }

        @Override
        public Optional<String> url() {
            return server == null ? Optional.empty() : Optional.of(server.getAddress() + OVERVIEW);
        }

        @Override
        public void close() {
            try {
                Runtime.getRuntime().removeShutdownHook(closeOnExit);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs anyway
            }
            try {
                if (server != null) {
                    server.detach(storage);
                    VertxUIServer.stopInstance();
                }
            } catch (Exception e) {
                throw new IllegalStateException("cannot stop DL4J's training UI: " + e, e);
            } finally {
                try {
                    storage.close();
                } catch (IOException e) {
                    throw new IllegalStateException("cannot close the training statistics: " + e, e);
                }
            }
        }
    }
}
