package org.repopt.examples.quickstart;

import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.optimize.listeners.ScoreIterationListener;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.ViewIterator;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.repopt.data.Datasets;
import org.repopt.data.EpochBatches;
import org.repopt.data.ImageDataset;
import org.repopt.data.Subset;
import org.repopt.gr.BlockScales;
import org.repopt.gr.GrSite;
import org.repopt.gr.GrSites;
import org.repopt.gr.RepOptimizer;
import org.repopt.io.AtomicFiles;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Quickstart 2: the beginner's MultiLayerNetwork (LeNet/VGG style: conv, BatchNorm, ReLU, max pooling, a dense
 * layer), trained with RepOptimizers by adding one line.
 *
 * <p>{@link GrSites} first lists which convs Gradient Re-parameterization can train (a conv feeding a BatchNorm, odd
 * kernel, stride 1 or 2, "same"-size padding, identity activation) and why the others are not. The scales are keyed by
 * DL4J's own layer names ({@code layer0, layer3, ...} unless a layer has its own name), so the one line maps them by
 * name. The network trains on Fashion-MNIST (Debian package {@code dataset-fashion-mnist}), is evaluated and saved.
 *
 * <p>Run: {@code ./repopt example one-line-multilayer [OUT_DIR]} (default {@code runs/examples}).
 */
public final class OneLineOnYourMultiLayerNetwork {

    public static void main(String[] args) throws Exception {
        boolean tiny = Boolean.getBoolean("repopt.example.tiny");   // the test suite's seconds-long setting
        Path out = Path.of(args.length > 0 ? args[0] : "runs/examples");
        int epochs = tiny ? 1 : 3;
        int batchSize = 64;

        // 1. Your network, as DL4J users write it. A conv that BatchNorm follows has no bias and a linear output (its
        //    ReLU comes after the BatchNorm); ConvolutionMode.Same keeps the size at stride 1.
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(42).weightInit(WeightInit.RELU)
                .convolutionMode(ConvolutionMode.Same).list()
                .layer(conv(16)).layer(new BatchNormalization()).layer(new ActivationLayer(Activation.RELU))
                .layer(conv(16)).layer(new BatchNormalization()).layer(new ActivationLayer(Activation.RELU))
                .layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
                .layer(conv(32)).layer(new BatchNormalization()).layer(new ActivationLayer(Activation.RELU))
                .layer(conv(32)).layer(new BatchNormalization()).layer(new ActivationLayer(Activation.RELU))
                .layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
                .layer(new ConvolutionLayer.Builder(1, 1).nOut(32).activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().nOut(64).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10)
                        .activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER).build())
                .setInputType(InputType.convolutional(28, 28, 1)).build();

        // 2. Which convs are GR sites, and why the last 1x1 conv is not.
        GrSites sites = GrSites.find(conf);
        System.out.print(sites.toText());

        // 3. Scales for every site, named like its layer: Hyper-Search's starting values (1 for a stage's first conv,
        //    sqrt(2/i) for the i-th conv after it, 1 for the identity branch). Example repopt-vgg-fashion-mnist shows
        //    how to search better ones on the data.
        List<BlockScales> scales = new ArrayList<>();
        int index = 0;
        for (GrSite site : sites.sites()) {
            index = site.identityPossible() ? index + 1 : 0;
            double[] branch = new double[site.outChannels()];
            Arrays.fill(branch, index == 0 ? 1.0 : Math.sqrt(2.0 / index));
            double[] identity = new double[site.outChannels()];
            Arrays.fill(identity, 1.0);
            scales.add(new BlockScales(site.layer(), site.inChannels(), site.outChannels(), site.stride(), branch,
                    branch, site.identityPossible() ? identity : null));
        }

        // 4. Data: Fashion-MNIST, normalized, shuffled and augmented per epoch (seed 0).
        ImageDataset data = Datasets.fashionMnist(null);
        if (tiny) {
            data = data.withOptions(data.options().withSubset(Subset.first(256)));
        }
        EpochBatches train = data.train(batchSize, 0);

        // 5. THE ONE LINE: Grad Mult + L2 on the sites' kernels, Nesterov SGD, the Rule of Initialization, init().
        //    Without it, this would be `new MultiLayerNetwork(conf); net.init();`.
        MultiLayerNetwork net = RepOptimizer.sgd(scales).mapByBlockName().learningRate(0.05).momentum(0.9)
                .weightDecay(5e-4).applyTo(conf);

        // 6. Train, evaluate, save.
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
        Path model = out.resolve("one-line-multilayer.zip");
        AtomicFiles.write(model, stream -> ModelSerializer.writeModel(net, stream, true));
        System.out.println("saved " + model + " (restore with ModelSerializer.restoreMultiLayerNetwork)");
    }

    /** A 3x3 conv for a BatchNorm to follow: no bias, linear output. */
    private static ConvolutionLayer conv(int channels) {
        return new ConvolutionLayer.Builder(3, 3).nOut(channels).hasBias(false).activation(Activation.IDENTITY).build();
    }
}
