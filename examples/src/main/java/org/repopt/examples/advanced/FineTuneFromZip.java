package org.repopt.examples.advanced;

import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.transferlearning.FineTuneConfiguration;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.ViewIterator;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.repopt.data.Datasets;
import org.repopt.data.EpochBatches;
import org.repopt.data.ImageDataset;
import org.repopt.data.Subset;
import org.repopt.gr.RepOptimizer;
import org.repopt.gr.ScalesFile;
import org.repopt.io.AtomicFiles;
import org.repopt.model.LayerNames;
import org.repopt.train.WarmupCosineSchedule;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Advanced 1: fine-tuning a saved RepOpt-VGG on a new task with another class count. The model trained by the
 * {@code repopt-vgg-fashion-mnist} example (10 classes) gets a new classifier for 4 coarse classes (tops, bottoms and
 * dresses, footwear, bags) with DL4J's {@code TransferLearning}; then {@code RepOptimizer...fineTune()} attaches the
 * Grad Mult again with a smaller learning rate while keeping the trained weights (no Rule of Initialization).
 *
 * <p>Run: {@code ./repopt example fine-tune [OUT_DIR [MODEL_ZIP SCALES_JSON]]}; by default it reads
 * {@code repopt-vgg-fashion-mnist.zip} and {@code fashion-mnist-scales.json} from {@code OUT_DIR}
 * (default {@code runs/examples}) and writes {@code fine-tuned-4-classes.zip} there.
 */
public final class FineTuneFromZip {

    /** Fashion-MNIST's 10 classes onto 4: T-shirt, pullover, coat, shirt; trouser, dress; sandal, sneaker, boot; bag. */
    private static final int[] COARSE_CLASS = {0, 1, 0, 1, 0, 2, 0, 2, 3, 2};
    private static final List<String> COARSE_NAMES = List.of("tops", "bottoms & dresses", "footwear", "bags");

    public static void main(String[] args) throws Exception {
        boolean tiny = Boolean.getBoolean("repopt.example.tiny");   // the test suite's seconds-long setting
        Path out = Path.of(args.length > 0 ? args[0] : "runs/examples");
        Path zip = args.length > 2 ? Path.of(args[1]) : out.resolve("repopt-vgg-fashion-mnist.zip");
        Path scalesFile = args.length > 2 ? Path.of(args[2]) : out.resolve("fashion-mnist-scales.json");
        for (Path p : List.of(zip, scalesFile)) {
            if (!Files.isRegularFile(p)) {
                throw new IllegalArgumentException(p + " not found: run ./repopt example repopt-vgg-fashion-mnist "
                        + out + " first, or pass MODEL_ZIP SCALES_JSON");
            }
        }
        int epochs = 1;
        int batchSize = 64;

        // 1. The pretrained network (its updater state is not needed: the new task starts a new optimizer).
        ComputationGraph pretrained = ComputationGraph.load(zip.toFile(), false);

        // 2. A new classifier for 4 classes on the same pooled features; every other layer keeps its weights.
        long features = ((OutputLayer) pretrained.getLayer(LayerNames.LINEAR).conf().getLayer()).getNIn();
        ComputationGraph fourClasses = new TransferLearning.GraphBuilder(pretrained)
                .fineTuneConfiguration(new FineTuneConfiguration.Builder().seed(7).build())
                .removeVertexKeepConnections(LayerNames.LINEAR)
                .addLayer(LayerNames.LINEAR, new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nIn(features).nOut(COARSE_NAMES.size()).activation(Activation.SOFTMAX)
                        .weightInit(WeightInit.XAVIER).build(), LayerNames.POOL)
                .setOutputs(LayerNames.LINEAR)
                .build();

        // 3. Data with coarse labels: one-hot 10-class labels times a 10x4 0/1 matrix.
        ImageDataset data = Datasets.fashionMnist(null);
        if (tiny) {
            data = data.withOptions(data.options().withSubset(Subset.first(256)));
        }
        INDArray toCoarse = Nd4j.zeros(data.options().dataType(), 10, COARSE_NAMES.size());
        for (int c = 0; c < 10; c++) {
            toCoarse.putScalar(c, COARSE_CLASS[c], 1.0);
        }
        EpochBatches train = data.train(batchSize, 1);

        // 4. fineTune(): the Grad Mult and the updater again, at a tenth of the learning rate, weights kept.
        ScalesFile scales = ScalesFile.read(scalesFile);
        ComputationGraph net = RepOptimizer.sgd(scales).fineTune()
                .learningRate(new WarmupCosineSchedule(0.005, 0.0, 0, epochs * train.batchesPerEpoch()))
                .momentum(0.9).weightDecay(5e-4).applyTo(fourClasses);

        for (int epoch = 0; epoch < epochs; epoch++) {
            DataSetIterator it = train.epoch(epoch);
            while (it.hasNext()) {
                DataSet batch = it.next();
                net.fit(new DataSet(batch.getFeatures(), batch.getLabels().mmul(toCoarse)));
            }
            System.out.printf("epoch %d/%d done, loss %.4f%n", epoch + 1, epochs, net.score());
        }

        // 5. Evaluate on the coarse test labels and save.
        Evaluation evaluation = new Evaluation(COARSE_NAMES);
        DataSetIterator test = data.test(256);
        if (tiny) {
            test = new ViewIterator(test.next(), 256);   // one test batch
        }
        while (test.hasNext()) {
            DataSet batch = test.next();
            evaluation.eval(batch.getLabels().mmul(toCoarse), net.outputSingle(batch.getFeatures()));
        }
        System.out.println(evaluation.stats());
        Path model = out.resolve("fine-tuned-4-classes.zip");
        AtomicFiles.write(model, stream -> ModelSerializer.writeModel(net, stream, true));
        System.out.println("saved " + model);
    }
}
