package org.repopt.examples.advanced;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.optimize.listeners.ScoreIterationListener;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.ViewIterator;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.repopt.check.EquivalenceCheck;
import org.repopt.check.EquivalenceReport;
import org.repopt.data.Datasets;
import org.repopt.data.EpochBatches;
import org.repopt.data.ImageDataset;
import org.repopt.data.Subset;
import org.repopt.gr.GrSites;
import org.repopt.gr.RepOptimizer;
import org.repopt.gr.ScalesFile;
import org.repopt.io.AtomicFiles;
import org.repopt.search.GraphHyperSearch;
import org.repopt.train.WarmupCosineSchedule;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Advanced: Hyper-Search on your own network, then training it with the scales it found.
 *
 * <p>Your graph is a VGG as DL4J users write it: {@code ConvolutionMode.Same} 3x3 convs, BatchNorm, {@code
 * ActivationLayer}s, max-pooling. {@code GrSites} finds the convs Gradient Re-parameterization can train (a conv
 * feeding a BatchNorm); Hyper-Search trains the graph's multi-branch twin (a 1x1 and an identity branch with a
 * trainable scale per channel next to each such conv) and exports the scales under your layer names; the one line
 * then trains your plain graph with them, and the equivalence check shows, in double precision on random data, that
 * the plain graph follows its multi-branch twin exactly. It saves the scales, the graph's JSON (for {@code ./repopt
 * search|train|check --graph}) and the trained model.
 *
 * <p>Run: {@code ./repopt example hyper-search-own-network [OUT_DIR]} (default {@code runs/examples}).
 */
public final class HyperSearchOnYourNetwork {

    /** @return the graph: the one in {@code examples/graphs/fashion-vgg.json} */
    public static ComputationGraphConfiguration graph() {
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder().seed(42)
                .weightInit(WeightInit.RELU).activation(Activation.IDENTITY).convolutionMode(ConvolutionMode.Same)
                .graphBuilder().addInputs("input").setInputTypes(InputType.convolutional(28, 28, 1));
        int[] channels = {16, 16, 32, 32, 64, 64};
        String previous = "input";
        for (int i = 0; i < channels.length; i++) {
            g.addLayer("conv" + i, new ConvolutionLayer.Builder(3, 3).nOut(channels[i]).hasBias(false).build(), previous);
            g.addLayer("bn" + i, new BatchNormalization.Builder().build(), "conv" + i);
            g.addLayer("relu" + i, new ActivationLayer(Activation.RELU), "bn" + i);
            previous = "relu" + i;
            if (i == 1 || i == 3) {   // downsample by max-pooling after every second conv
                g.addLayer("pool" + i, new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2)
                        .build(), previous);
                previous = "pool" + i;
            }
        }
        g.addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), previous);
        g.addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10)
                .activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER).build(), "gap");
        return g.setOutputs("out").build();
    }

    public static void main(String[] args) throws Exception {
        boolean tiny = Boolean.getBoolean("repopt.example.tiny");   // the test suite's seconds-long setting
        Path out = Path.of(args.length > 0 ? args[0] : "runs/examples");
        int epochs = tiny ? 1 : 3;
        int batchSize = 64;

        // 1. Your graph, and which of its convs the optimizer can re-parameterize.
        ComputationGraphConfiguration conf = graph();
        System.out.print(GrSites.find(conf).toText());

        ImageDataset data = Datasets.fashionMnist(null);
        if (tiny) {
            data = data.withOptions(data.options().withSubset(Subset.first(256)));
        }
        EpochBatches train = data.train(batchSize, 0);

        // 2. Hyper-Search: the graph's multi-branch twin, every scale trainable, one epoch; scales keyed by your names.
        ScalesFile scales = GraphHyperSearch.of(conf, "fashion-vgg")
                .learningRate(new WarmupCosineSchedule(0.05, 0.0, 0, train.batchesPerEpoch()))
                .momentum(0.9).weightDecay(4e-5).search(train.epoch(0), 1);
        scales.write(out.resolve("fashion-vgg-scales.json"));
        byte[] json = conf.toJson().getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(out.resolve("fashion-vgg.json"), stream -> stream.write(json));

        // 3. The check: your plain graph with the RepOptimizer follows the twin with these constant scales.
        EquivalenceReport check = EquivalenceCheck.builder().steps(tiny ? 3 : 20).build().run(conf, scales);
        System.out.println(check.toText());

        // 4. THE ONE LINE, the scales mapped to your convs by name; then train, evaluate, save.
        ComputationGraph net = RepOptimizer.sgd(scales).mapByBlockName()
                .learningRate(new WarmupCosineSchedule(0.05, 0.0, 0, epochs * train.batchesPerEpoch()))
                .momentum(0.9).weightDecay(5e-4).applyTo(conf);
        net.setListeners(new ScoreIterationListener(100));
        for (int epoch = 0; epoch < epochs; epoch++) {
            net.fit(train.epoch(epoch));
            System.out.printf("epoch %d/%d done, loss %.4f%n", epoch + 1, epochs, net.score());
        }
        DataSetIterator test = data.test(256);
        if (tiny) {
            test = new ViewIterator(test.next(), 256);   // one test batch
        }
        Evaluation evaluation = net.evaluate(test);
        System.out.println(evaluation.stats());
        Path model = out.resolve("fashion-vgg.zip");
        AtomicFiles.write(model, stream -> ModelSerializer.writeModel(net, stream, true));
        System.out.println("saved " + model + " (the trained plain graph is the deployable model)");
    }
}
