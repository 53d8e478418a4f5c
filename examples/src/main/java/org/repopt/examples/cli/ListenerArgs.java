package org.repopt.examples.cli;

import org.deeplearning4j.optimize.api.TrainingListener;
import org.repopt.train.GradMultEffectListener;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The DL4J listeners a training run gets: the training UI ({@code --ui}, {@code --stats-file}), the Grad Mult's effect
 * ({@code --grad-mult-stats}) and any {@code TrainingListener} class ({@code --listener}).
 */
final class ListenerArgs {

    /** DL4J's own default UI port. */
    static final int DEFAULT_UI_PORT = 9000;

    @Option(names = "--ui", description = "Serve DL4J's training UI on localhost while training (the build's optional "
            + "'ui' part, which ./repopt adds by itself); prints its address. When the terminal is "
            + "interactive it keeps serving after training until Enter is pressed.")
    boolean ui;

    @Option(names = "--ui-port", defaultValue = "" + DEFAULT_UI_PORT, paramLabel = "PORT",
            description = "Port of --ui (default: ${DEFAULT-VALUE}, DL4J's; 0: any free port).")
    int uiPort;

    @Option(names = "--stats-file", paramLabel = "FILE", description = "Record the training UI's statistics into FILE "
            + "(DL4J's FileStatsStorage; a new file), to view later with ./repopt ui FILE. Needs the 'ui' profile.")
    Path statsFile;

    @Option(names = "--stats-every", defaultValue = "10", paramLabel = "N",
            description = "Collect UI statistics and the Grad Mult's effect every N iterations (default: "
                    + "${DEFAULT-VALUE}).")
    int statsEvery;

    @Option(names = "--grad-mult-stats", description = "Log per re-parameterized kernel the Grad Mult's effect (raw "
            + "vs multiplied gradient norm, cosine, update:parameter ratio) into " + GradMultEffectListener.FILE
            + " in the run folder.")
    boolean gradMultStats;

    @Option(names = "--listener", paramLabel = "CLASS[:N]", description = "Also attach this DL4J TrainingListener: a "
            + "class with a no-argument constructor, or with an int one given as :N (e.g. org.deeplearning4j.optimize."
            + "listeners.PerformanceListener:50). Repeatable; add your own jars with REPOPT_CLASSPATH.")
    List<String> listeners = new ArrayList<>();

    /** @return whether any listener option was given */
    boolean any() {
        return ui || statsFile != null || gradMultStats || !listeners.isEmpty();
    }

    /**
     * Checks the options before any work starts.
     *
     * @throws IllegalArgumentException naming the offending option
     * @throws IllegalStateException    when the UI is asked for but not built in, saying how to build it
     */
    void check() {
        if (uiPort < 0 || uiPort > 0xFFFF) {
            throw new IllegalArgumentException("--ui-port must be in 0..65535, got " + uiPort);
        }
        if (statsEvery < 1) {
            throw new IllegalArgumentException("--stats-every must be >= 1, got " + statsEvery);
        }
        if (ui) {
            TrainingUi.require("--ui");
        }
        if (statsFile != null) {
            TrainingUi.require("--stats-file");
            if (Files.exists(statsFile)) {
                throw new IllegalArgumentException("--stats-file " + statsFile + " already exists; record into a new "
                        + "file (view the old one with ./repopt ui " + statsFile + ")");
            }
        }
        for (String spec : listeners) {
            instantiate(spec);
        }
    }


    /**
     * Creates the listeners and starts the UI, if asked for. The UI's session is named after the run folder; a
     * resumed run appends to its {@value GradMultEffectListener#FILE} from the checkpoint's iteration on.
     *
     * @param runDir the run's output folder
     * @param out    where the UI's address is printed
     * @return the listeners for {@code Trainer.withTrainingListeners}, and what to close when training ends
     * @throws IOException when the statistics file cannot be created
     */
    Attached attach(Path runDir, PrintStream out) throws IOException {
        List<TrainingListener> attach = new ArrayList<>();
        TrainingUi.Recording recording = null;
        if (ui || statsFile != null) {
            TrainingUi trainingUi = TrainingUi.require(ui ? "--ui" : "--stats-file");
            String session = runDir.toAbsolutePath().normalize().getFileName().toString();
            recording = trainingUi.record(session, statsFile, ui ? uiPort : null, statsEvery);
            attach.add(recording.listener());
            recording.url().ifPresent(u -> out.println("training UI: " + u));
            if (statsFile != null) {
                out.println("UI statistics: " + statsFile + " (view later with ./repopt ui " + statsFile + ")");
            }
        }
        if (gradMultStats) {
            Files.createDirectories(runDir);
            attach.add(GradMultEffectListener.toJsonLines(runDir.resolve(GradMultEffectListener.FILE), statsEvery));
        }
        for (String spec : listeners) {
            attach.add(instantiate(spec));
        }
        return new Attached(attach, recording, out);
    }

    /** A run's listeners, and what they leave to do at its end. */
    static final class Attached implements AutoCloseable {
        private final List<TrainingListener> listeners;
        private final TrainingUi.Recording recording;
        private final PrintStream out;

        private Attached(List<TrainingListener> listeners, TrainingUi.Recording recording, PrintStream out) {
            this.listeners = List.copyOf(listeners);
            this.recording = recording;
            this.out = out;
        }

        /** @return the DL4J listeners to attach for the run */
        TrainingListener[] listeners() {
            return listeners.toArray(new TrainingListener[0]);
        }

        /** Keeps serving the UI until Enter when the terminal is interactive, then stops it. */
        @Override
        public void close() {
            if (recording == null) {
                return;
            }
            try {
                if (recording.url().isPresent() && System.console() != null) {
                    out.println("training finished; the UI keeps serving at " + recording.url().get()
                            + ": press Enter to stop");
                    new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
                }
            } catch (IOException e) {
                // no terminal to wait on: stop now
            } finally {
                recording.close();
            }
        }
    }

    /**
     * @param spec {@code CLASS} or {@code CLASS:N}
     * @return a new listener
     * @throws IllegalArgumentException naming {@code spec} and what is wrong with it
     */
    static TrainingListener instantiate(String spec) {
        int colon = spec.lastIndexOf(':');
        String name = colon < 0 ? spec : spec.substring(0, colon);
        Integer arg = null;
        if (colon >= 0) {
            try {
                arg = Integer.valueOf(spec.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--listener " + spec + ": the part after ':' must be an integer");
            }
        }
        Class<?> type;
        try {
            type = Class.forName(name);
        } catch (ClassNotFoundException e) {
            throw new IllegalArgumentException("--listener " + spec + ": no class " + name + " on the class path (add "
                    + "your jar with REPOPT_CLASSPATH=path/to.jar)");
        }
        if (!TrainingListener.class.isAssignableFrom(type)) {
            throw new IllegalArgumentException("--listener " + spec + ": " + name + " is not a "
                    + TrainingListener.class.getName());
        }
        try {
            Constructor<?> c = arg == null ? type.getConstructor() : type.getConstructor(int.class);
            return (TrainingListener) (arg == null ? c.newInstance() : c.newInstance(arg));
        } catch (NoSuchMethodException e) {
            throw new IllegalArgumentException("--listener " + spec + ": " + name + " has no public constructor "
                    + (arg == null ? "without arguments" : "taking one int"));
        } catch (InstantiationException | IllegalAccessException e) {
            throw new IllegalArgumentException("--listener " + spec + ": cannot create " + name + ": " + e);
        } catch (InvocationTargetException e) {
            throw new IllegalArgumentException("--listener " + spec + ": the constructor of " + name + " failed: "
                    + e.getCause(), e.getCause());
        }
    }
}
