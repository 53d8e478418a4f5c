package org.repopt.examples.quickstart;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.optimize.listeners.ScoreIterationListener;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.dataset.ViewIterator;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.repopt.data.Datasets;
import org.repopt.data.EpochBatches;
import org.repopt.data.ImageDataset;
import org.repopt.data.Subset;
import org.repopt.gr.RepOptimizer;
import org.repopt.gr.ScalesFile;
import org.repopt.io.AtomicFiles;
import org.repopt.model.CslaVgg;
import org.repopt.model.ModelStats;
import org.repopt.model.RepOptVgg;
import org.repopt.model.VggSpec;
import org.repopt.train.WarmupCosineSchedule;

import java.nio.file.Path;

/**
 * Quickstart 2: the paper's recipe on Fashion-MNIST. First Hyper-Search finds the Grad Mult's constants: it trains
 * the Hyper-Search model (the multi-branch twin with a trainable scale per channel and branch) and exports the learned
 * scales. Then RepOpt-VGG, a plain VGG, trains with those scales as constants in its optimizer.
 *
 * <p>The architecture is {@code VggSpec.small()}: 16-32-32-64-64-128 channels, 145K parameters. The released scales
 * ({@code ScalesFile.released("B1")}) fit only the ImageNet-size variants B1..L2 ({@code VggSpec.of(Variant.B1)}).
 *
 * <p>Run: {@code ./repopt example repopt-vgg-fashion-mnist [OUT_DIR]} (default {@code runs/examples}); it writes
 * {@code fashion-mnist-scales.json} and {@code repopt-vgg-fashion-mnist.zip}, which the fine-tune example reads.
 */
public final class RepOptVggOnFashionMnist {

    public static void main(String[] args) throws Exception {
        boolean tiny = Boolean.getBoolean("repopt.example.tiny");   // the test suite's seconds-long setting
        Path out = Path.of(args.length > 0 ? args[0] : "runs/examples");
        int searchEpochs = 1;
        int epochs = tiny ? 1 : 3;
        int batchSize = 64;

        ImageDataset data = Datasets.fashionMnist(null);
        if (tiny) {
            data = data.withOptions(data.options().withSubset(Subset.first(256)));
        }
        EpochBatches train = data.train(batchSize, 0);
        VggSpec spec = VggSpec.small();
        System.out.println("RepOpt-VGG-" + spec.name() + ": " + ModelStats.of(RepOptVgg.builder(spec).build()).describe());

        // 1. Hyper-Search: every CSLA scale trainable, plain SGD (no Grad Mult), the paper's weight decay 4e-5.
        CslaVgg searchModel = CslaVgg.builder(spec).build();
        ComputationGraph search = RepOptimizer.baselineSgd()
                .learningRate(new WarmupCosineSchedule(0.05, 0.0, 0, searchEpochs * train.batchesPerEpoch()))
                .momentum(0.9).weightDecay(4e-5).applyTo(searchModel.conf());
        search.setListeners(new ScoreIterationListener(100));
        for (int epoch = 0; epoch < searchEpochs; epoch++) {
            search.fit(train.epoch(epoch));
        }
        ScalesFile scales = searchModel.exportScales(search, "Hyper-Search on Fashion-MNIST, " + searchEpochs
                + " epoch(s), " + data.trainExamples() + " images");
        Path scalesFile = out.resolve("fashion-mnist-scales.json");
        scales.write(scalesFile);
        System.out.println("searched scales written to " + scalesFile);

        // 2. RepOpt-VGG with the searched scales: init() maps them to the 3x3 convs by block name.
        ComputationGraph net = RepOptVgg.builder(spec).build().init(RepOptimizer.sgd(scales)
                .learningRate(new WarmupCosineSchedule(0.05, 0.0, 0, epochs * train.batchesPerEpoch()))
                .momentum(0.9).weightDecay(5e-4));
        net.setListeners(new ScoreIterationListener(100));
        for (int epoch = 0; epoch < epochs; epoch++) {
            net.fit(train.epoch(epoch));
            System.out.printf("epoch %d/%d done, loss %.4f%n", epoch + 1, epochs, net.score());
        }

        // 3. Evaluate and save: the saved network trains on exactly (its configuration holds the Grad Mult).
        DataSetIterator test = data.test(256);
        if (tiny) {
            test = new ViewIterator(test.next(), 256);   // one test batch
        }
        Evaluation evaluation = net.evaluate(test);
        System.out.println(evaluation.stats());
        Path model = out.resolve("repopt-vgg-fashion-mnist.zip");
        AtomicFiles.write(model, stream -> ModelSerializer.writeModel(net, stream, true));
        System.out.println("saved " + model);
    }
}
