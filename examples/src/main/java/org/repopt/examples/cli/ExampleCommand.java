package org.repopt.examples.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/** {@code ./repopt example NAME [ARGS...]}: runs one of the example main classes; {@code --list} lists them. */
@Command(name = "example", mixinStandardHelpOptions = true,
        description = {"Run an example main class (examples/README.md explains them in reading order).",
                "Each takes an optional output folder (default runs/examples) and ends by saving its model."})
final class ExampleCommand implements Callable<Integer> {

    /**
     * One example main class.
     *
     * @param name      its name on the command line
     * @param className its class
     * @param summary   what it shows
     * @param needsUi   whether it needs the build's optional UI part
     */
    record Example(String name, String className, String summary, boolean needsUi) {
    }

    /** Every example, in reading order (the order of examples/README.md). */
    static final List<Example> ALL = List.of(
            new Example("one-line", "org.repopt.examples.quickstart.OneLineOnYourGraph",
                    "your own VGG-style ComputationGraph trained with RepOptimizers by adding one line", false),
            new Example("one-line-multilayer", "org.repopt.examples.quickstart.OneLineOnYourMultiLayerNetwork",
                    "the same one line on a MultiLayerNetwork, its GR sites found and reported", false),
            new Example("repopt-vgg-fashion-mnist", "org.repopt.examples.quickstart.RepOptVggOnFashionMnist",
                    "Hyper-Search on Fashion-MNIST, then RepOpt-VGG with the searched scales", false),
            new Example("hyper-search-own-network", "org.repopt.examples.advanced.HyperSearchOnYourNetwork",
                    "Hyper-Search on your own graph, the equivalence check, then training it with those scales", false),
            new Example("fine-tune", "org.repopt.examples.advanced.FineTuneFromZip",
                    "fine-tune the saved RepOpt-VGG on 4 coarse classes (TransferLearning + fineTune())", false),
            new Example("export-deployable", "org.repopt.examples.advanced.ExportDeployableModel",
                    "the deployable model: BN folded, stock DL4J classes only (a zip any DL4J app loads) and ONNX",
                    false),
            new Example("training-ui", "org.repopt.examples.advanced.TrainingUiExample",
                    "DL4J's training UI (UIServer, StatsListener, FileStatsStorage) and the Grad Mult's effect", true));

    @Option(names = "--list", description = "List the examples in reading order.")
    private boolean list;

    @Parameters(index = "0", arity = "0..1", paramLabel = "NAME", description = "The example to run (see --list).")
    private String name;

    @Parameters(index = "1..*", paramLabel = "ARGS", description = "Its arguments, e.g. an output folder.")
    private List<String> args = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        if (list || name == null) {
            for (Example e : ALL) {
                System.out.printf(Locale.ROOT, "%-26s %s%s%n", e.name(), e.summary(),
                        e.needsUi() ? " (optional UI part)" : "");
            }
            return 0;
        }
        Example example = ALL.stream().filter(e -> e.name().equals(name)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("unknown example '" + name + "'; known: "
                        + ALL.stream().map(Example::name).collect(Collectors.joining(", "))));
        run(example, args.toArray(new String[0]));
        return 0;
    }

    /**
     * Runs an example's {@code main}.
     *
     * @throws IllegalStateException when it needs the UI part and the build lacks it
     */
    static void run(Example example, String[] args) throws Exception {
        Method main;
        try {
            main = Class.forName(example.className()).getMethod("main", String[].class);
        } catch (ClassNotFoundException e) {
            if (example.needsUi()) {
                throw new IllegalStateException("example " + example.name() + " needs " + TrainingUi.HOW_TO_ENABLE);
            }
            throw e;
        }
        try {
            main.invoke(null, (Object) args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof Exception) {
                throw (Exception) e.getCause();
            }
            throw e;
        }
    }
}
