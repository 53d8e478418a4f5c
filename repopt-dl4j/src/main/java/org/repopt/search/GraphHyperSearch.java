package org.repopt.search;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.schedule.ISchedule;
import org.repopt.data.ImageDataset;
import org.repopt.gr.GrSite;
import org.repopt.gr.GrSites;
import org.repopt.gr.Hyperparameters;
import org.repopt.gr.MultiLayerAsGraph;
import org.repopt.gr.RepOptimizer;
import org.repopt.gr.ScalesFile;
import org.repopt.gr.TorchSgd;
import org.repopt.train.RunFolder;
import org.repopt.train.TrainResult;
import org.repopt.train.Trainer;

import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Hyper-Search on the user's own network (docs/METHOD.md#hyper-search): builds the Hyper-Search twin of the plain
 * graph ({@link CslaTwin#search}, every scale trainable from the paper's starting values), trains it with Nesterov SGD
 * and L2 weight decay (on the kernels, the identity scales and the dense weights; not on the branch scales, nor
 * BatchNorm or biases, as the reference code), and exports the trained scales as a scales file keyed by the user's
 * conv names:
 *
 * <pre>{@code
 * ScalesFile scales = GraphHyperSearch.of(conf, "my-net").learningRate(0.05).search(trainIterator, 1);
 * ComputationGraph net = RepOptimizer.sgd(scales).mapByBlockName().applyTo(conf);
 * }</pre>
 *
 * The twin trains on the data the user gives, any DL4J {@code DataSetIterator} ({@link #search}), or through the
 * project's {@link Trainer} with its schedule, checkpoints and metrics ({@link #run}).
 */
public final class GraphHyperSearch {

    private final CslaTwin twin;
    private final String model;
    private double learningRate = RepOptimizer.DEFAULT_LEARNING_RATE;
    private ISchedule schedule;
    private SearchRecipe recipe = new SearchRecipe(TorchSgd.DEFAULT_MOMENTUM, HyperSearch.DEFAULT_WEIGHT_DECAY);

    private GraphHyperSearch(CslaTwin twin, String model) {
        this.twin = twin;
        this.model = Objects.requireNonNull(model, "model");
    }

    /**
     * The search of every GR site of a graph ({@link GrSites#find}).
     *
     * @param plain the user's plain graph, built with input types
     * @param model what to call the network in the scales file
     * @return the search
     * @throws IllegalArgumentException when the graph has no GR site (one line with every conv's reason)
     */
    public static GraphHyperSearch of(ComputationGraphConfiguration plain, String model) {
        return of(plain, GrSites.find(plain).requireAny().sites(), model);
    }

    /**
     * The search of every GR site of a {@code MultiLayerConfiguration}, through its chain graph
     * ({@link MultiLayerAsGraph}); the scales are keyed by its layer names, which
     * {@code RepOptimizer.sgd(scales).mapByBlockName().applyTo(conf)} maps on the {@code MultiLayerConfiguration}.
     *
     * @param plain the user's network configuration, built with an input type
     * @param model what to call the network in the scales file
     * @return the search
     * @throws IllegalArgumentException when the network has no GR site
     */
    public static GraphHyperSearch of(MultiLayerConfiguration plain, String model) {
        return of(MultiLayerAsGraph.toGraph(plain), model);
    }

    /**
     * @param plain the user's plain graph, built with input types
     * @param sites the GR sites to re-parameterize (a subset of {@link GrSites#find}'s), in forward order
     * @param model what to call the network in the scales file
     * @return the search
     * @throws IllegalArgumentException naming the block and layer where a site does not fit the graph
     */
    public static GraphHyperSearch of(ComputationGraphConfiguration plain, List<GrSite> sites, String model) {
        return new GraphHyperSearch(CslaTwin.search(plain, CslaTwin.initialScales(sites)), model);
    }

    /** @param lr constant learning rate, {@code > 0} (default 0.1) */
    public GraphHyperSearch learningRate(double lr) {
        this.learningRate = Hyperparameters.learningRate(lr);
        this.schedule = null;
        return this;
    }

    /** @param s a learning-rate schedule (for {@link #search}; the {@link Trainer} installs its own) */
    public GraphHyperSearch learningRate(ISchedule s) {
        this.schedule = Objects.requireNonNull(s, "schedule");
        return this;
    }

    /** @param m Nesterov momentum in {@code (0, 1)} (default 0.9) */
    public GraphHyperSearch momentum(double m) {
        this.recipe = new SearchRecipe(m, recipe.weightDecay());
        return this;
    }

    /** @param wd L2 weight decay, {@code >= 0} (default the paper's 4e-5) */
    public GraphHyperSearch weightDecay(double wd) {
        this.recipe = new SearchRecipe(recipe.momentum(), wd);
        return this;
    }

    /** @return the Hyper-Search twin */
    public CslaTwin twin() {
        return twin;
    }

    /** @return a fresh Hyper-Search network: the twin with Nesterov SGD and the weight-decay rule above */
    public ComputationGraph network() {
        RepOptimizer.Builder b = recipe.sgd();
        if (schedule != null) {
            b.learningRate(schedule);
        } else {
            b.learningRate(learningRate);
        }
        return b.applyTo(twin.conf());
    }

    /**
     * Trains a fresh Hyper-Search network on {@code data} and exports its scales.
     *
     * @param data   the search data: any iterator of the graph's input and labels (reset before each epoch after the
     *               first)
     * @param epochs passes over {@code data}, {@code >= 1}
     * @return the searched scales, keyed by the user's conv names
     */
    public ScalesFile search(DataSetIterator data, int epochs) {
        Objects.requireNonNull(data, "data");
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        }
        ComputationGraph net = network();
        for (int e = 0; e < epochs; e++) {
            if (e > 0) {
                if (!data.resetSupported()) {
                    throw new IllegalArgumentException("the iterator cannot be reset, so it cannot give " + epochs
                            + " epochs; search 1 epoch, or give a resettable iterator");
                }
                data.reset();
            }
            net.fit(data);
        }
        return export(net, String.format(Locale.ROOT, "Hyper-Search with repopt-dl4j of %s, %d epochs on a "
                + "DataSetIterator, lr %s, momentum %s, weight decay %s; blocks are the network's conv layers",
                model, epochs, schedule != null ? schedule : learningRate, recipe.momentum(), recipe.weightDecay()));
    }

    /**
     * @param net    a trained network from {@link #network()}
     * @param source provenance, or {@code null}
     * @return its scales
     */
    public ScalesFile export(ComputationGraph net, String source) {
        return twin.exportScales(net, model, source);
    }

    /**
     * Trains a fresh Hyper-Search network with the project's {@link Trainer} (its warm-up/cosine schedule,
     * checkpoints and {@code metrics.jsonl}) in a folder the caller holds, and writes the scales there.
     *
     * @param data    the search data set
     * @param trainer the training run
     * @param folder  the trainer's output folder, from {@link RunFolder#startNew}
     * @return the searched scales, also written to {@value HyperSearch#SCALES_FILE} in the folder
     * @throws IOException when checkpoints or the scales cannot be written
     */
    public SearchResult run(ImageDataset data, Trainer trainer, RunFolder folder) throws IOException {
        TrainResult training = trainer.train(network(), data, folder);
        return SearchRecipe.save(export(training.network(), SearchRecipe.provenance(model, data, training, "HS model",
                "blocks are the network's conv layers")), training, folder);
    }
}
