package org.repopt.examples.cli;

import org.repopt.data.ImageDataset;
import org.repopt.search.HyperSearch;
import org.repopt.search.SearchResult;
import org.repopt.train.Recipe;
import org.repopt.train.TrainConfig;
import org.repopt.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code ./repopt search}: Hyper-Search, writing a scales file. */
@Command(name = "search", mixinStandardHelpOptions = true,
        description = {"Hyper-Search: train the Hyper-Search model of a variant on a search data set and write its "
                + "scales (scales.json in --out) for --model repopt-vgg --scales FILE.",
                "The paper searches on CIFAR-100 for 240 epochs; any data set works (REFERENCE section 6)."})
final class SearchCommand implements Callable<Integer> {

    @Mixin
    private DataArgs data;
    @Mixin
    private TrainArgs train;

    @Option(names = "--variant", defaultValue = "small", paramLabel = "NAME",
            description = "The target architecture: small (default), B1, B2, L1 or L2.")
    private String variant;

    @Override
    public Integer call() throws Exception {
        Recipe recipe = data.recipe();
        ImageDataset ds = data.open(train.cropPadding(recipe));
        TrainConfig config = train.config(recipe, Path.of("runs", "search-" + variant.toLowerCase(Locale.ROOT) + "-"
                + ds.name()));
        HyperSearch search = new HyperSearch(ModelArgs.spec(variant), train.momentum, train.weightDecay(recipe));
        Trainer trainer = new Trainer(config, System.out);
        SearchResult result = train.resume ? search.resume(ds, trainer) : search.run(ds, trainer);
        System.out.println("Hyper-Search of " + variant + " on " + ds.name() + ": " + result.training().summary());
        System.out.println("scales=" + result.file());
        return 0;
    }
}
