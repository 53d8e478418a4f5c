package org.repopt.deploy.onnx;

import onnx.Onnx;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.LocalResponseNormalization;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.repopt.deploy.DeployModel;
import org.repopt.deploy.TrainedFamilies;
import org.repopt.deploy.UnsupportedLayerException;
import org.repopt.quant.ActivationGrid;
import org.repopt.quant.Calibrator;
import org.repopt.quant.Granularity;
import org.repopt.quant.QuantPoint;
import org.repopt.quant.RangeEstimator;
import org.repopt.testing.TinySpecs;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ONNX files of every family pass ONNX's own checker, say what their input is, and refuse what they cannot write. */
class OnnxExportTest {

    @TempDir
    Path dir;

    @Test
    void everyFamilyWritesAValidModelWithItsInputDocumented() throws Exception {
        List<Path> files = new ArrayList<>();
        for (Map.Entry<String, Supplier<TrainedFamilies.Trained>> e : TrainedFamilies.all().entrySet()) {
            TrainedFamilies.Trained t = e.getValue().get();
            ComputationGraph deploy = DeployModel.of(t.net(), t.input());
            InputType.InputTypeConvolutional in = (InputType.InputTypeConvolutional) t.input();
            OnnxExport.Input input = new OnnxExport.Input("image", (int) in.getChannels(), (int) in.getHeight(),
                    (int) in.getWidth(), "(pixel / 255 - 0.5) / 0.25");
            Onnx.ModelProto m = OnnxExport.fp32(deploy, input, Map.of("model", e.getKey()));
            Map<String, String> meta = OnnxExport.metadata(m);
            assertEquals("13", meta.get("opset"));
            assertEquals("image", meta.get("input_name"));
            assertEquals("batch," + in.getChannels() + "," + in.getHeight() + "," + in.getWidth(),
                    meta.get("input_shape"));
            assertEquals("(pixel / 255 - 0.5) / 0.25", meta.get("input_normalization"));
            assertEquals(e.getKey(), meta.get("model"));
            assertEquals(OnnxExport.OPSET, m.getOpsetImport(0).getVersion());
            Path f = dir.resolve(files.size() + ".onnx");
            OnnxExport.write(m, f);
            assertEquals(m, Onnx.ModelProto.parseFrom(Files.readAllBytes(f)), "the file holds the model");
            files.add(f);
        }
        files.add(int8Model());
        Assumptions.assumeTrue(OnnxChecker.available(), "python3-onnx is not installed here");
        String problems = OnnxChecker.problems(files);
        assertTrue(problems.isEmpty(), problems);
    }

    private Path int8Model() throws Exception {
        TrainedFamilies.Trained t = TrainedFamilies.all().get("RepOpt-VGG").get();
        ComputationGraph deploy = DeployModel.of(t.net());
        var spec = TinySpecs.tiny();
        var data = new org.nd4j.linalg.dataset.adapter.SingletonDataSetIterator(
                TinySpecs.batch(spec, 16, 3, org.nd4j.linalg.api.buffer.DataType.FLOAT));
        List<QuantPoint> points = Calibrator.calibrate(deploy, data, 1, new RangeEstimator.MinMax(),
                ActivationGrid.UNSIGNED_AFTER_RELU);
        Onnx.ModelProto m = OnnxExport.int8(deploy, new OnnxExport.Input("image", 3, 8, 8, "none"),
                new OnnxExport.Int8Plan(points, Granularity.PER_CHANNEL), Map.of());
        assertTrue(m.getGraph().getNodeList().stream().anyMatch(n -> n.getOpType().equals("QuantizeLinear")));
        assertEquals("int8-qdq-per_channel-u8-weights", OnnxExport.metadata(m).get("precision"));
        Path f = dir.resolve("int8.onnx");
        OnnxExport.write(m, f);
        return f;
    }

    @Test
    void anUnsupportedLayerIsRefusedByName() {
        ComputationGraph g = new ComputationGraph(new NeuralNetConfiguration.Builder().graphBuilder().addInputs("in")
                .addLayer("conv", new ConvolutionLayer.Builder(3, 3).nOut(4).convolutionMode(ConvolutionMode.Truncate)
                        .build(), "in")
                .addLayer("lrn", new LocalResponseNormalization.Builder().build(), "conv")
                .addLayer("pool", new GlobalPoolingLayer.Builder().build(), "lrn")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(2)
                        .activation(Activation.SOFTMAX).build(), "pool")
                .setOutputs("out").setInputTypes(InputType.convolutional(6, 6, 1)).build());
        g.init();
        UnsupportedLayerException e = assertThrows(UnsupportedLayerException.class,
                () -> OnnxExport.fp32(g, new OnnxExport.Input("x", 1, 6, 6, "none"), Map.of()));
        assertEquals("lrn", e.layer());
        assertTrue(e.getMessage().contains("LocalResponseNormalization"), e.getMessage());
    }

    @Test
    void aSameModeConvolutionIsRefusedByName() {
        ComputationGraph g = new ComputationGraph(new NeuralNetConfiguration.Builder().graphBuilder().addInputs("in")
                .addLayer("c", new ConvolutionLayer.Builder(3, 3).stride(2, 2).nOut(4)
                        .convolutionMode(ConvolutionMode.Same).build(), "in")
                .addLayer("pool", new GlobalPoolingLayer.Builder().build(), "c")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(2)
                        .activation(Activation.SOFTMAX).build(), "pool")
                .setOutputs("out").setInputTypes(InputType.convolutional(6, 6, 1)).build());
        g.init();
        UnsupportedLayerException e = assertThrows(UnsupportedLayerException.class,
                () -> OnnxExport.fp32(g, new OnnxExport.Input("x", 1, 6, 6, "none"), Map.of()));
        assertEquals("c", e.layer());
        assertTrue(e.getMessage().contains("Same"), e.getMessage());
    }

    @Test
    void int8RefusesAWeightedLayerWithoutAQuantizedInput() {
        TrainedFamilies.Trained t = TrainedFamilies.all().get("VGG").get();
        ComputationGraph deploy = DeployModel.of(t.net());
        UnsupportedLayerException e = assertThrows(UnsupportedLayerException.class, () -> OnnxExport.int8(deploy,
                new OnnxExport.Input("x", 3, 8, 8, "none"), new OnnxExport.Int8Plan(List.of(),
                        Granularity.PER_TENSOR), Map.of()));
        assertTrue(e.getMessage().contains("not quantized"), e.getMessage());
    }

    @Test
    void aMissingFolderWritesNothing() {
        Path target = dir.resolve("nope").resolve("m.onnx");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OnnxExport.write(Onnx.ModelProto.getDefaultInstance(), target));
        assertTrue(e.getMessage().contains(target.getParent().toString()), e.getMessage());
        assertFalse(Files.exists(target.getParent()));
    }
}
