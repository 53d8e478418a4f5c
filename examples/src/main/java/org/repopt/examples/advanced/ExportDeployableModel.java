package org.repopt.examples.advanced;

import onnx.Onnx;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.ViewIterator;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.repopt.data.Datasets;
import org.repopt.data.ImageDataset;
import org.repopt.deploy.DeployModel;
import org.repopt.deploy.onnx.OnnxExport;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Advanced: the deployable model. A RepOpt-VGG is a plain VGG already; what stands between the trained network and
 * an application is training state: its configuration names the RepOptimizer's Grad Mult hook, the updater and the
 * learning-rate schedule (classes of repopt-dl4j), and every conv is followed by a batch norm. {@code DeployModel.of}
 * folds the batch norms into the conv kernels and biases and keeps stock DL4J classes only, so any DL4J application
 * loads the zip with {@code ModelSerializer}, without repopt-dl4j; {@code OnnxExport} writes the same model as ONNX
 * for other runtimes (ONNX Runtime, TensorRT, OpenVINO).
 *
 * <p>Run: {@code ./repopt example export-deployable [OUT_DIR [MODEL_ZIP]]}; by default it reads
 * {@code repopt-vgg-fashion-mnist.zip} (written by the {@code repopt-vgg-fashion-mnist} example) from {@code OUT_DIR}
 * (default {@code runs/examples}) and writes {@code repopt-vgg-deploy.zip} and {@code repopt-vgg.onnx} there.
 */
public final class ExportDeployableModel {

    public static void main(String[] args) throws Exception {
        boolean tiny = Boolean.getBoolean("repopt.example.tiny");   // the test suite's seconds-long setting
        Path out = Path.of(args.length > 0 ? args[0] : "runs/examples");
        Path zip = args.length > 1 ? Path.of(args[1]) : out.resolve("repopt-vgg-fashion-mnist.zip");
        if (!Files.isRegularFile(zip)) {
            throw new IllegalArgumentException(zip + " not found: run ./repopt example repopt-vgg-fashion-mnist "
                    + out + " first, or pass MODEL_ZIP");
        }

        // 1. The trained network, as training left it.
        ComputationGraph trained = ComputationGraph.load(zip.toFile(), false);
        System.out.println("trained: " + trained.getNumLayers() + " layers, configuration names repopt-dl4j classes: "
                + trained.getConfiguration().toJson().contains("org.repopt"));

        // 2. The deploy model: batch norm folded into the convs, stock DL4J layers, no updater.
        ImageDataset data = Datasets.fashionMnist(null);
        InputType input = InputType.convolutional(data.height(), data.width(), data.channels());
        ComputationGraph deploy = DeployModel.of(trained, input);
        System.out.println("deploy:  " + deploy.getNumLayers() + " layers, configuration names repopt-dl4j classes: "
                + deploy.getConfiguration().toJson().contains("org.repopt"));

        // 3. Both compute the same thing in inference mode: same accuracy, outputs equal up to float rounding.
        DataSetIterator test = data.test(256);
        if (tiny) {
            test = new ViewIterator(test.next(), 256);   // one test batch
        }
        Evaluation before = trained.evaluate(test);
        test.reset();
        Evaluation after = deploy.evaluate(test);
        test.reset();
        INDArray x = test.next().getFeatures();
        double diff = trained.outputSingle(false, x).sub(deploy.outputSingle(false, x)).amaxNumber().doubleValue();
        System.out.printf("top-1 trained %.4f, deploy %.4f; largest output difference %.2e%n", before.accuracy(),
                after.accuracy(), diff);

        // 4. Save the zip (no updater state) and read it back as any DL4J application would.
        Path deployZip = out.resolve("repopt-vgg-deploy.zip");
        DeployModel.write(deploy, deployZip);
        ComputationGraph loaded = ModelSerializer.restoreComputationGraph(deployZip.toFile(), false);
        System.out.println("saved " + deployZip + " (" + Files.size(deployZip) / 1024 + " KiB); reloaded with "
                + loaded.numParams() + " parameters");

        // 5. The same model as ONNX (opset 13); the file says what its input is.
        OnnxExport.Input onnxInput = new OnnxExport.Input("input", data.channels(), data.height(), data.width(),
                data.inputNormalization());
        Onnx.ModelProto onnx = OnnxExport.fp32(deploy, onnxInput, Map.of("model", "RepOpt-VGG-small",
                "dataset", data.name()));
        Path onnxFile = out.resolve("repopt-vgg.onnx");
        OnnxExport.write(onnx, onnxFile);
        System.out.println("saved " + onnxFile + " (" + onnx.getGraph().getNodeCount() + " nodes)");
        OnnxExport.metadata(onnx).forEach((k, v) -> System.out.println("  " + k + ": " + v));
    }
}
