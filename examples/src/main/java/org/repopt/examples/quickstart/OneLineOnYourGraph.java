package org.repopt.examples.quickstart;

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
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.optimize.listeners.ScoreIterationListener;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.dataset.ViewIterator;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.repopt.data.Datasets;
import org.repopt.data.EpochBatches;
import org.repopt.data.ImageDataset;
import org.repopt.data.Subset;
import org.repopt.gr.BlockScales;
import org.repopt.gr.RepOptimizer;
import org.repopt.io.AtomicFiles;
import org.repopt.train.WarmupCosineSchedule;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Quickstart 1: the ComputationGraph you already have, trained with RepOptimizers by adding one line.
 *
 * <p>The graph is a plain VGG: {@code conv3x3 -> BatchNorm -> ReLU} blocks, global average pooling, softmax. The one
 * line gives every 3x3 kernel a fixed per-channel Grad Mult inside DL4J's updater and re-initializes the kernels, so
 * this plain graph trains like its multi-branch (RepVGG-style) twin, and the trained graph is the deployable model.
 * It trains on Fashion-MNIST (Debian package {@code dataset-fashion-mnist}), evaluates and saves the model.
 *
 * <p>Run: {@code ./repopt example one-line [OUT_DIR]} (default {@code runs/examples}).
 */
public final class OneLineOnYourGraph {

    public static void main(String[] args) throws Exception {
        boolean tiny = Boolean.getBoolean("repopt.example.tiny");   // the test suite's seconds-long setting
        Path out = Path.of(args.length > 0 ? args[0] : "runs/examples");
        int epochs = tiny ? 1 : 3;
        int batchSize = 64;

        // 1. Your graph. PyTorch-style padding 1 is Truncate mode with padding(1, 1); the convs have no bias because
        //    BatchNorm follows. Rows: {in channels, out channels, stride, index of the block in its stage}.
        int[][] blocks = {{1, 16, 1, 0}, {16, 32, 2, 0}, {32, 32, 1, 1}, {32, 64, 2, 0}, {64, 64, 1, 1}};
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder().seed(42)
                .weightInit(WeightInit.RELU).graphBuilder().addInputs("input")
                .setInputTypes(InputType.convolutional(28, 28, 1));
        String previous = "input";
        for (int i = 0; i < blocks.length; i++) {
            g.addLayer("conv" + i, new ConvolutionLayer.Builder(3, 3).stride(blocks[i][2], blocks[i][2])
                    .padding(1, 1).convolutionMode(ConvolutionMode.Truncate).nOut(blocks[i][1]).hasBias(false)
                    .activation(Activation.IDENTITY).build(), previous);
            g.addLayer("bn" + i, new BatchNormalization.Builder().build(), "conv" + i);
            g.addLayer("relu" + i, new ActivationLayer(Activation.RELU), "bn" + i);
            previous = "relu" + i;
        }
        g.addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), previous);
        g.addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10)
                .activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER).build(), "pool");
        ComputationGraphConfiguration conf = g.setOutputs("out").build();

        // 2. The scales: one BlockScales per 3x3 conv, in forward order, per output channel. These are Hyper-Search's
        //    starting values (1 for a stage's first block, sqrt(2/i) for block i, 1 for the identity branch); the
        //    example repopt-vgg-fashion-mnist searches better ones on the data.
        List<BlockScales> scales = new ArrayList<>();
        for (int i = 0; i < blocks.length; i++) {
            int in = blocks[i][0], outChannels = blocks[i][1], stride = blocks[i][2], index = blocks[i][3];
            double[] branch = new double[outChannels];
            Arrays.fill(branch, index == 0 ? 1.0 : Math.sqrt(2.0 / index));
            double[] identity = new double[outChannels];
            Arrays.fill(identity, 1.0);
            scales.add(new BlockScales("conv" + i, in, outChannels, stride, branch, branch,
                    BlockScales.hasIdentityBranch(in, outChannels, stride) ? identity : null));
        }

        // 3. Data: Fashion-MNIST, normalized, shuffled and augmented per epoch (seed 0).
        ImageDataset data = Datasets.fashionMnist(null);
        if (tiny) {
            data = data.withOptions(data.options().withSubset(Subset.first(256)));
        }
        EpochBatches train = data.train(batchSize, 0);

        // 4. THE ONE LINE: Grad Mult + L2 on the kernels, Nesterov SGD with a warm-up/cosine schedule, the Rule of
        //    Initialization, init(). Without it, this would be `new ComputationGraph(conf); net.init();`.
        ComputationGraph net = RepOptimizer.sgd(scales).learningRate(new WarmupCosineSchedule(0.05, 0.0,
                train.batchesPerEpoch() / 10, epochs * train.batchesPerEpoch())).momentum(0.9).weightDecay(5e-4)
                .applyTo(conf);

        // 5. Train, evaluate, save.
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
        Path model = out.resolve("one-line.zip");
        AtomicFiles.write(model, stream -> ModelSerializer.writeModel(net, stream, true));
        System.out.println("saved " + model + " (the trained graph is the deployable model)");
    }
}
