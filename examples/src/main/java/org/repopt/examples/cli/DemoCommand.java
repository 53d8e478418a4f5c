package org.repopt.examples.cli;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.repopt.data.ImageDataset;
import org.repopt.examples.bench.Machine;
import org.repopt.gr.ScalesFile;
import org.repopt.gr.TorchSgd;
import org.repopt.io.AtomicFiles;
import org.repopt.model.ModelStats;
import org.repopt.model.VggSpec;
import org.repopt.search.HyperSearch;
import org.repopt.search.SearchResult;
import org.repopt.train.ModelFamily;
import org.repopt.train.Recipe;
import org.repopt.train.RunFolder;
import org.repopt.train.TrainConfig;
import org.repopt.train.TrainResult;
import org.repopt.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code ./repopt demo}: the project's main job on the embedded default data set. Hyper-Search on Fashion-MNIST, then
 * RepOpt-VGG trained with the searched scales next to RepVGG and plain VGG trained the same way, and a table.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"The main job: Hyper-Search on Fashion-MNIST, then RepOpt-VGG (with the searched scales), RepVGG "
                + "and plain VGG trained with the same recipe; prints a table (accuracy, training images/s, wall time) "
                + "and ends with test_accuracy=<RepOpt-VGG top-1>.",
                "About 10-15 minutes on 2 cores. Writes everything under --out; --resume continues an interrupted demo."})
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--out", defaultValue = "runs/demo", paramLabel = "DIR",
            description = "Output folder (default: ${DEFAULT-VALUE}).")
    private Path out;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "Fashion-MNIST folder (default: /usr/share/datasets/fashion-mnist).")
    private Path dataDir;

    @Option(names = "--epochs", paramLabel = "N", description = "Epochs of each family (default: the Fashion-MNIST "
            + "recipe's 3).")
    private Integer epochs;

    @Option(names = "--search-epochs", defaultValue = "1", paramLabel = "N",
            description = "Epochs of the Hyper-Search (default: ${DEFAULT-VALUE}).")
    private int searchEpochs;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "Seed (default: ${DEFAULT-VALUE}).")
    private long seed;

    @Option(names = "--resume", description = "Continue an interrupted demo in --out.")
    private boolean resume;

    @Option(names = "--no-progress", description = "No progress bars (also off when the output is not a terminal).")
    private boolean noProgress;

    /** One row of the result table. */
    private record Row(String model, String role, double top1, double imagesPerSecond, double wallSeconds,
                       long params) {
    }

    @Override
    public Integer call() throws Exception {
        if (!resume && Files.exists(out) && Files.list(out).findAny().isPresent()) {
            throw new IllegalArgumentException(out + " is not empty: pass --resume to continue that demo, or --out "
                    + "another folder");
        }
        Recipe recipe = Recipe.FASHION_MNIST;
        DataArgs dataArgs = DataArgs.fashionMnist(dataDir);
        ImageDataset data = dataArgs.open(recipe.cropPadding());
        VggSpec spec = VggSpec.small();
        long start = System.nanoTime();
        List<Row> rows = new ArrayList<>();

        System.out.println("== 1/4 Hyper-Search: HS-" + spec.name() + " on Fashion-MNIST, " + searchEpochs + " epoch(s)");
        HyperSearch search = new HyperSearch(spec, TorchSgd.DEFAULT_MOMENTUM, recipe.weightDecay());
        Trainer searchTrainer = trainer(recipe, out.resolve("search"), searchEpochs);
        SearchResult searched = stageExists(out.resolve("search")) ? search.resume(data, searchTrainer)
                : search.run(data, searchTrainer);
        rows.add(row(ModelFamily.HS, "Hyper-Search model", searched.training(), spec));
        ScalesFile scales = ScalesFile.read(searched.file());

        int step = 2;
        TrainResult repopt = null;
        for (ModelFamily family : List.of(ModelFamily.REPOPT_VGG, ModelFamily.REPVGG, ModelFamily.VGG)) {
            System.out.println("== " + step++ + "/4 " + family.displayName() + "-" + spec.name());
            Path dir = out.resolve(ModelArgs.name(family));
            Trainer trainer = trainer(recipe, dir, epochs != null ? epochs : recipe.epochs());
            TrainResult result;
            if (stageExists(dir)) {
                result = trainer.resume(data);
            } else {
                RunInfo info = RunInfo.of(family, spec.name(), dataArgs, recipe.cropPadding(), spec,
                        family.needsScales() ? searched.file().toAbsolutePath().toString() : null,
                        TorchSgd.DEFAULT_MOMENTUM, recipe.weightDecay());
                try (RunFolder run = RunInfo.startRun(dir)) {
                    ComputationGraph net = family.network(spec, DataType.FLOAT, seed,
                            family.needsScales() ? scales : null, info.momentum(), info.weightDecay());
                    info.write(run);
                    result = trainer.train(net, data, run);
                }
            }
            rows.add(row(family, family == ModelFamily.REPOPT_VGG ? "searched scales" : "baseline", result, spec));
            if (family == ModelFamily.REPOPT_VGG) {
                repopt = result;
            }
        }
        String table = table(rows, (System.nanoTime() - start) / 1e9);
        System.out.println();
        System.out.print(table);
        AtomicFiles.write(out.resolve("demo.md"), o -> o.write(table.getBytes(StandardCharsets.UTF_8)));
        System.out.printf(Locale.ROOT, "test_accuracy=%.4f%n", repopt.finalTest().top1());
        return 0;
    }

    private Trainer trainer(Recipe recipe, Path dir, int epochCount) {
        TrainConfig config = recipe.config(dir).epochs(epochCount).seed(seed)
                .progress(!noProgress && System.console() != null).build();
        return new Trainer(config, System.out);
    }

    private static boolean stageExists(Path dir) throws IOException {
        return Trainer.latestCheckpoint(dir).isPresent();
    }

    private static Row row(ModelFamily family, String role, TrainResult r, VggSpec spec) {
        long params = ModelStats.of(family.model(spec, DataType.FLOAT, 0)).trainableParams();
        return new Row(family.displayName() + "-" + spec.name(), role, r.finalTest().top1(), r.imagesPerSecond(),
                r.wallSeconds(), params);
    }

    private static String table(List<Row> rows, double totalSeconds) {
        StringBuilder sb = new StringBuilder();
        sb.append("| model | role | test top-1 | train images/s | wall time (s) | trainable params |\n");
        sb.append("|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "| %s | %s | %.4f | %.0f | %.1f | %,d |%n", r.model(), r.role(),
                    r.top1(), r.imagesPerSecond(), r.wallSeconds(), r.params()));
        }
        sb.append(String.format(Locale.ROOT, "%nTotal wall time: %.1f s (%.1f min), %d cores, %s%n", totalSeconds,
                totalSeconds / 60, Runtime.getRuntime().availableProcessors(), Machine.cpuModel()));
        return sb.toString();
    }
}
