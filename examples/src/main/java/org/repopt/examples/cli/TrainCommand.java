package org.repopt.examples.cli;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.repopt.data.ImageDataset;
import org.repopt.gr.NetworkConfigFile;
import org.repopt.gr.RepOptimizer;
import org.repopt.gr.ScalesFile;
import org.repopt.model.GhostNetScales;
import org.repopt.model.GhostNetSpec;
import org.repopt.model.VggSpec;
import org.repopt.train.EpochFitter;
import org.repopt.train.ModelFamily;
import org.repopt.train.Recipe;
import org.repopt.train.RunFolder;
import org.repopt.train.TrainConfig;
import org.repopt.train.TrainResult;
import org.repopt.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/** {@code ./repopt train}: trains one model family on one data set, resumably. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train RepOpt-VGG, RepVGG, plain VGG or the Hyper-Search model, or RepOpt-GhostNet or its "
                + "Hyper-Search model, on a data set.",
                "Checkpoints every epoch into --out (atomically, the last two kept); --resume --out DIR continues an "
                        + "interrupted run exactly, with the values it was started with.",
                "--graph FILE.json --scales FILE trains your own network (its configuration as DL4J's toJson() writes "
                        + "it, either kind; a MultiLayerConfiguration trains as its chain graph) with the RepOptimizer "
                        + "and the scales ./repopt search --graph wrote, mapped by layer name.",
                "Ends with the line test_accuracy=<top-1>."})
final class TrainCommand implements Callable<Integer> {

    @Mixin
    private DataArgs data;
    @Mixin
    private ModelArgs model;
    @Mixin
    private TrainArgs train;
    @Mixin
    private DataParallelArgs parallel;
    @Mixin
    private EngineArgs engine;
    @Mixin
    private ListenerArgs listen;
    @Spec
    private CommandSpec spec;

    @Option(names = "--graph", paramLabel = "FILE.json",
            description = "Your own network instead of --model/--variant (needs --scales FILE): a "
                    + "ComputationGraphConfiguration or MultiLayerConfiguration as toJson() writes it.")
    private Path graph;

    @Override
    public Integer call() throws Exception {
        listen.check();
        if (graph != null) {
            return startGraph();
        }
        return train.resume ? resume() : start();
    }

    /** The user's own network with the RepOptimizer and scales keyed by its layer names. */
    private int startGraph() throws IOException {
        for (String option : new String[]{"--model", "--variant"}) {
            if (spec.commandLine().getParseResult().hasMatchedOption(option)) {
                throw new IllegalArgumentException("--graph and " + option + " exclude each other: --graph trains "
                        + "your network with the RepOptimizer");
            }
        }
        if (train.resume) {
            throw new IllegalArgumentException("--resume does not take --graph yet; start the run again in a new --out");
        }
        if (model.scales == null || model.scales.startsWith(ModelArgs.RELEASED)) {
            throw new IllegalArgumentException("--graph " + graph + " needs --scales FILE, searched for this network: "
                    + "run ./repopt search --graph " + graph + " first (released scales fit only RepOpt-VGG B1..L2)");
        }
        NetworkConfigFile net = GraphArgs.read(graph);
        ScalesFile scales = GraphArgs.scales(Path.of(model.scales));
        Recipe recipe = data.recipe();
        ImageDataset ds = data.open(train.cropPadding(recipe));
        GraphArgs.requireFits(net, ds);
        TrainConfig config = train.config(recipe, Path.of("runs", "repopt-" + net.name() + "-" + ds.name()));
        try (EpochFitter fitter = parallel.open(); RunFolder run = RunInfo.startRun(config.outputDir())) {
            ComputationGraph cg = engine.apply(RepOptimizer.sgd(scales).mapByBlockName().momentum(train.momentum)
                    .weightDecay(train.weightDecay(recipe)).applyTo(net.graph()));
            try (ListenerArgs.Attached listeners = listen.attach(config.outputDir(), System.out)) {
                TrainResult result = new Trainer(config, System.out).withEpochFitter(fitter)
                        .withTrainingListeners(listeners.listeners()).train(cg, ds, run);
                System.out.println(net.name() + " (RepOptimizer, scales " + model.scales + ") on " + ds.name() + ": "
                        + result.summary());
                System.out.println("run folder: " + config.outputDir());
                System.out.printf(Locale.ROOT, "test_accuracy=%.4f%n", result.finalTest().top1());
                return 0;
            }
        }
    }

    /** Checks and builds everything it can first; the folder is claimed before anything is written into it. */
    private int start() throws IOException {
        Recipe recipe = data.recipe();
        ModelFamily family = model.family();
        int cropPadding = train.cropPadding(recipe);
        ImageDataset ds = data.open(cropPadding);
        TrainConfig config = train.config(recipe, defaultOut(family, ds));
        RunInfo info;
        Supplier<ComputationGraph> network;
        if (family.ghostNet()) {
            GhostNetSpec arch = model.ghostSpec(ds);
            ScalesFile scales = model.ghostScalesOrNull();
            if (scales != null) {
                GhostNetScales.requireFits(scales, arch); // before the folder is claimed
            }
            info = RunInfo.of(family, model.variant(), data, cropPadding, arch, model.scalesSource(), train.momentum,
                    train.weightDecay(recipe));
            network = () -> family.network(arch, DataType.FLOAT, config.seed(), scales, info.momentum(),
                    info.weightDecay());
        } else {
            VggSpec arch = model.spec(ds);
            ScalesFile scales = model.scalesOrNull();
            info = RunInfo.of(family, model.variant(), data, cropPadding, arch, model.scalesSource(), train.momentum,
                    train.weightDecay(recipe));
            network = () -> family.network(arch, DataType.FLOAT, config.seed(), scales, info.momentum(),
                    info.weightDecay());
        }
        try (EpochFitter fitter = parallel.open(); RunFolder run = RunInfo.startRun(config.outputDir())) {
            ComputationGraph net = engine.apply(network.get());
            info.write(run);
            try (ListenerArgs.Attached listeners = listen.attach(config.outputDir(), System.out)) {
                return report(info, ds, new Trainer(config, System.out).withEpochFitter(fitter)
                        .withTrainingListeners(listeners.listeners()).train(net, ds, run), config.outputDir());
            }
        }
    }

    private int resume() throws IOException {
        Path dir = train.out != null ? train.out : defaultOut(model.family(), data.open(0));
        try (RunFolder run = RunFolder.resume(dir)) {
            RunInfo info = RunInfo.read(dir);
            TrainConfig saved = Trainer.savedConfig(dir).build();
            ResumeFlags flags = new ResumeFlags(spec.commandLine().getParseResult(), dir);
            data.requireSameAs(flags, info);
            model.requireSameAs(flags, info);
            train.requireSameAs(flags, info, saved);
            Map<String, String> fitterFields = Trainer.savedFitterFields(dir);
            parallel.requireSameAs(flags, fitterFields);
            flags.check();
            ImageDataset ds = info.openData(data.dataDir);
            TrainConfig config = saved.toBuilder().progress(train.progress()).build();
            try (EpochFitter fitter = parallel.openToResume(dir, fitterFields);
                 ListenerArgs.Attached listeners = listen.attach(dir, System.out)) {
                return report(info, ds, new Trainer(config, System.out).withEpochFitter(fitter)
                        .withTrainingListeners(listeners.listeners()).resume(ds, run), dir);
            }
        }
    }

    private Path defaultOut(ModelFamily family, ImageDataset ds) {
        return Path.of("runs", ModelArgs.name(family) + "-" + model.variant().toLowerCase(Locale.ROOT) + "-"
                + ds.name());
    }

    private static int report(RunInfo info, ImageDataset ds, TrainResult result, Path dir) {
        System.out.println(info.family().displayName() + "-" + info.specName() + " on " + ds.name() + ": "
                + result.summary());
        System.out.println("run folder: " + dir);
        System.out.printf(Locale.ROOT, "test_accuracy=%.4f%n", result.finalTest().top1());
        return 0;
    }
}
