package org.repopt.examples.cli;

import org.repopt.data.ImageDataset;
import org.repopt.model.GhostNetSpec;
import org.repopt.search.GhostNetHyperSearch;
import org.repopt.gr.GrSites;
import org.repopt.gr.NetworkConfigFile;
import org.repopt.search.GraphHyperSearch;
import org.repopt.search.HyperSearch;
import org.repopt.search.SearchResult;
import org.repopt.train.ModelFamily;
import org.repopt.train.Recipe;
import org.repopt.train.RunFolder;
import org.repopt.train.TrainConfig;
import org.repopt.train.TrainResult;
import org.repopt.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code ./repopt search}: Hyper-Search, writing a scales file. */
@Command(name = "search", mixinStandardHelpOptions = true,
        description = {"Hyper-Search: train the Hyper-Search model of a variant on a search data set and write its "
                + "scales (scales.json in --out) for --model repopt-vgg --scales FILE (or, with --model "
                + "repopt-ghostnet, for RepOpt-GhostNet).",
                "--graph FILE.json searches your own network instead (its configuration as DL4J's toJson() writes "
                        + "it, ComputationGraphConfiguration or MultiLayerConfiguration): scales for every GR site, "
                        + "keyed by its layer names, for ./repopt train --graph FILE.json --scales FILE.",
                "The paper searches on CIFAR-100 for 240 epochs; any data set works.",
                "--resume --out DIR continues an interrupted search exactly, with the values it was started with."})
final class SearchCommand implements Callable<Integer> {

    @Mixin
    private DataArgs data;
    @Mixin
    private TrainArgs train;
    @Spec
    private CommandSpec spec;

    @Option(names = "--model", defaultValue = "repopt-vgg", paramLabel = "FAMILY",
            description = "The target family whose scales are searched: repopt-vgg (default) or repopt-ghostnet.")
    private String model;

    @Option(names = "--variant", paramLabel = "NAME",
            description = "The target architecture: small (default), B1, B2, L1 or L2; for repopt-ghostnet a width "
                    + "multiplier, 0.5x (default), 1.0x, ...")
    private String variant;

    @Option(names = "--graph", paramLabel = "FILE.json",
            description = "Your own network instead of --variant: a ComputationGraphConfiguration or "
                    + "MultiLayerConfiguration as toJson() writes it.")
    private Path graph;

    @Override
    public Integer call() throws Exception {
        if (graph != null) {
            return startGraph();
        }
        return train.resume ? resume() : start();
    }

    /** @return the search family of {@code --model}: {@link ModelFamily#HS} or {@link ModelFamily#GHOSTNET_HS} */
    private ModelFamily searchFamily() {
        ModelFamily target = ModelArgs.family(model);
        if (target != ModelFamily.REPOPT_VGG && target != ModelFamily.REPOPT_GHOSTNET) {
            throw new IllegalArgumentException("--model " + model + ": a search finds the scales of repopt-vgg or "
                    + "repopt-ghostnet");
        }
        return target.searchFamily();
    }

    private String variant() {
        return variant != null ? variant : ModelArgs.defaultVariant(searchFamily());
    }

    /** Hyper-Search of the user's own network: its twin through the Trainer, scales keyed by its layer names. */
    private int startGraph() throws IOException {
        if (spec.commandLine().getParseResult().hasMatchedOption("--variant")) {
            throw new IllegalArgumentException("--graph and --variant exclude each other: --graph searches your "
                    + "network, --variant one of ours");
        }
        if (train.resume) {
            throw new IllegalArgumentException("--resume does not take --graph yet; start the search again in a new "
                    + "--out");
        }
        NetworkConfigFile net = GraphArgs.read(graph);
        Recipe recipe = data.recipe();
        ImageDataset ds = data.open(train.cropPadding(recipe));
        System.out.print(GrSites.find(net.graph()).requireAny().toText());
        GraphArgs.requireFits(net, ds);
        GraphHyperSearch search = GraphHyperSearch.of(net.graph(), net.name()).momentum(train.momentum)
                .weightDecay(train.weightDecay(recipe));
        TrainConfig config = train.config(recipe, Path.of("runs", "search-" + net.name() + "-" + ds.name()));
        try (RunFolder run = RunInfo.startRun(config.outputDir())) {
            return report(net.name(), ds, search.run(ds, new Trainer(config, System.out), run));
        }
    }

    private int start() throws IOException {
        Recipe recipe = data.recipe();
        int cropPadding = train.cropPadding(recipe);
        ImageDataset ds = data.open(cropPadding);
        TrainConfig config = train.config(recipe, defaultOut(ds));
        if (searchFamily() == ModelFamily.GHOSTNET_HS) {
            GhostNetHyperSearch search = new GhostNetHyperSearch(GhostNetSpec.parse(variant()), train.momentum,
                    train.weightDecay(recipe));
            RunInfo info = RunInfo.of(ModelFamily.GHOSTNET_HS, variant(), data, cropPadding,
                    search.modelFor(ds).spec(), null, train.momentum, train.weightDecay(recipe));
            try (RunFolder run = RunInfo.startRun(config.outputDir())) {
                info.write(run);
                SearchResult r = search.run(ds, new Trainer(config, System.out), run);
                return report(info, ds, r.training(), r.file());
            }
        }
        HyperSearch search = new HyperSearch(ModelArgs.spec(variant()), train.momentum, train.weightDecay(recipe));
        RunInfo info = RunInfo.of(ModelFamily.HS, variant(), data, cropPadding, search.modelFor(ds).spec(), null,
                train.momentum, train.weightDecay(recipe));
        try (RunFolder run = RunInfo.startRun(config.outputDir())) {
            info.write(run);
            SearchResult r = search.run(ds, new Trainer(config, System.out), run);
            return report(info, ds, r.training(), r.file());
        }
    }

    private int resume() throws IOException {
        Path dir = train.out != null ? train.out : defaultOut(data.open(0));
        try (RunFolder run = RunFolder.resume(dir)) {
            RunInfo info = RunInfo.read(dir);
            if (info.family() != ModelFamily.HS && info.family() != ModelFamily.GHOSTNET_HS) {
                throw new IllegalArgumentException(dir + " holds a ./repopt train run of " + info.model()
                        + ", not a search; resume it with ./repopt train --resume --out " + dir);
            }
            TrainConfig saved = Trainer.savedConfig(dir).build();
            ResumeFlags flags = new ResumeFlags(spec.commandLine().getParseResult(), dir);
            flags.same("--model", info.family() == ModelFamily.GHOSTNET_HS ? "repopt-ghostnet" : "repopt-vgg", model);
            flags.same("--variant", info.variant(), variant);
            data.requireSameAs(flags, info);
            train.requireSameAs(flags, info, saved);
            flags.check();
            ImageDataset ds = info.openData(data.dataDir);
            TrainConfig config = saved.toBuilder().progress(train.progress()).build();
            if (info.family() == ModelFamily.GHOSTNET_HS) {
                SearchResult r = new GhostNetHyperSearch(GhostNetSpec.parse(info.variant()),
                        info.momentum(), info.weightDecay()).resume(ds, new Trainer(config, System.out), run);
                return report(info, ds, r.training(), r.file());
            }
            HyperSearch search = new HyperSearch(ModelArgs.spec(info.variant()), info.momentum(), info.weightDecay());
            SearchResult r = search.resume(ds, new Trainer(config, System.out), run);
            return report(info, ds, r.training(), r.file());
        }
    }

    private Path defaultOut(ImageDataset ds) {
        String family = searchFamily() == ModelFamily.GHOSTNET_HS ? "ghostnet-" : "";
        return Path.of("runs", "search-" + family + variant().toLowerCase(Locale.ROOT) + "-" + ds.name());
    }

    private static int report(RunInfo info, ImageDataset ds, TrainResult training, Path file) {
        return report((info.family() == ModelFamily.GHOSTNET_HS ? "RepOptGhostNet-" : "") + info.variant(), ds,
                training, file);
    }

    /** The report of a search without {@link RunInfo}: the user's own network ({@code --graph}). */
    private static int report(String searched, ImageDataset ds, SearchResult result) {
        return report(searched, ds, result.training(), result.file());
    }

    private static int report(String searched, ImageDataset ds, TrainResult training, Path file) {
        System.out.println("Hyper-Search of " + searched + " on " + ds.name() + ": " + training.summary());
        System.out.println("scales=" + file);
        return 0;
    }
}
