package org.repopt.spark.example;

import org.apache.spark.SparkConf;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.repopt.data.Datasets;
import org.repopt.data.ImageDataset;
import org.repopt.data.Subset;
import org.repopt.gr.TorchSgd;
import org.repopt.model.VggSpec;
import org.repopt.search.HyperSearch;
import org.repopt.search.SearchResult;
import org.repopt.spark.SparkContexts;
import org.repopt.spark.SparkEpochFitter;
import org.repopt.train.ModelFamily;
import org.repopt.train.Recipe;
import org.repopt.train.TrainConfig;
import org.repopt.train.TrainResult;
import org.repopt.train.Trainer;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;

/**
 * RepOpt-VGG on Fashion-MNIST, trained on Apache Spark: first a Hyper-Search finds the Grad Mult scales (the
 * Hyper-Search model trains on Spark too), then the plain RepOpt-VGG trains with them, each global batch of 64
 * split among the workers, parameters and momentum averaged after every step (synchronous data-parallel SGD).
 *
 * <p>Run it on this machine (two workers in one JVM):
 * <pre>
 * ./repopt train --spark --help     # builds the CLI with Spark on its class path (examples/target/lib)
 * java @repopt-spark/src/main/jvm/java17-add-opens.args \
 *     -cp "examples/target/repopt-examples.jar:examples/target/lib/*" \
 *     org.repopt.spark.example.FashionMnistOnSpark runs/spark-example
 * </pre>
 * (the CLI's jar brings its quiet logging configuration) or on a cluster with {@code spark-submit} (README, "Training
 * on Spark"), which gives the master. Arguments, all optional: the output folder (default {@code runs/spark-example}),
 * the folder holding Fashion-MNIST's four files (default, or an empty argument: where Debian's
 * {@code dataset-fashion-mnist} puts them) and the number of training examples to use (default: all 60,000). The
 * data are read on the driver only; each averaging round sends the workers their slices.
 */
public final class FashionMnistOnSpark {

    private static final int SEARCH_EPOCHS = 1;
    private static final long SEED = 1;

    private FashionMnistOnSpark() {
    }

    /**
     * @param args [output folder [Fashion-MNIST folder [training examples]]]
     * @throws IOException when the data cannot be read or a checkpoint cannot be written
     */
    public static void main(String[] args) throws IOException {
        Path out = Path.of(args.length > 0 ? args[0] : "runs/spark-example");
        Path dataDir = args.length > 1 && !args[1].isEmpty() ? Path.of(args[1]) : null;
        Subset subset = args.length > 2 ? Subset.first(Integer.parseInt(args[2])) : Subset.all();

        Recipe recipe = Recipe.FASHION_MNIST;
        ImageDataset raw = Datasets.fashionMnist(dataDir);
        ImageDataset data = raw.withOptions(raw.options().withPadding(recipe.cropPadding()).withSubset(subset));
        VggSpec spec = VggSpec.small().withInput(data.channels(), data.height(), data.width())
                .withClasses(data.numClasses());

        // spark-submit sets the master; run directly, two workers in this JVM
        String master = new SparkConf().contains("spark.master") ? "" : "local[2]";
        try (SparkEpochFitter spark = SparkEpochFitter.builder().ownsContext()
                .build(SparkContexts.start(master, "RepOpt-VGG on Fashion-MNIST"))) {
            System.out.println("Spark: " + spark);

            // 1. Hyper-Search: the Hyper-Search model learns the scales of the structural prior
            TrainConfig searchRun = recipe.config(out.resolve("search")).epochs(SEARCH_EPOCHS).seed(SEED).build();
            SearchResult search = new HyperSearch(spec, TorchSgd.DEFAULT_MOMENTUM, recipe.weightDecay())
                    .run(data, new Trainer(searchRun, System.out).withEpochFitter(spark));
            System.out.println("scales: " + search.file());

            // 2. RepOpt-VGG: the plain VGG, with the scales' Grad Mult in its optimizer
            TrainConfig run = recipe.config(out.resolve("repopt-vgg")).seed(SEED).build();
            ComputationGraph net = ModelFamily.REPOPT_VGG.network(spec, DataType.FLOAT, SEED, search.scales(),
                    TorchSgd.DEFAULT_MOMENTUM, recipe.weightDecay());
            TrainResult result = new Trainer(run, System.out).withEpochFitter(spark).train(net, data);
            System.out.println("RepOpt-VGG-" + spec.name() + " on Spark: " + result.summary());

            // the trained network is the deployable model
            File model = out.resolve("repopt-vgg-small.zip").toFile();
            ModelSerializer.writeModel(result.network(), model, false);
            System.out.println("model: " + model);
        }
    }
}
