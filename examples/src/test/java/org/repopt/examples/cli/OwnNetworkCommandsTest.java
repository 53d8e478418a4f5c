package org.repopt.examples.cli;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.repopt.examples.advanced.HyperSearchOnYourNetwork;
import org.repopt.gr.BlockScales;
import org.repopt.model.CslaVgg;
import org.repopt.search.CslaTwin;
import org.repopt.model.RepOptVgg;
import org.repopt.model.VggSpec;
import org.repopt.gr.ScalesFile;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code search --graph}, {@code train --graph} and {@code check} on the user's own network, as DL4J's {@code toJson()}
 * writes it, on a tiny Fashion-MNIST copy; and the one-line errors for bad input.
 */
class OwnNetworkCommandsTest {

    @TempDir
    static Path dir;
    static Path data;
    static Path graph;
    static Path multiLayer;

    @BeforeAll
    static void files() throws IOException {
        data = Files.createDirectories(dir.resolve("data"));
        RunCommandsTest.writeIdx(data.resolve("train-images-idx3-ubyte.gz"), 0x803, new int[]{32, 28, 28}, 1);
        RunCommandsTest.writeIdx(data.resolve("train-labels-idx1-ubyte.gz"), 0x801, new int[]{32}, 0);
        RunCommandsTest.writeIdx(data.resolve("t10k-images-idx3-ubyte.gz"), 0x803, new int[]{16, 28, 28}, 2);
        RunCommandsTest.writeIdx(data.resolve("t10k-labels-idx1-ubyte.gz"), 0x801, new int[]{16}, 0);
        graph = write("graph.json", userGraph().toJson());
        multiLayer = write("mln.json", multiLayerNet().toJson());
    }

    private static Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text, StandardCharsets.UTF_8);
    }

    /** A user-style graph for 1x28x28: Same-mode convs, BN, activation layers, max-pooling. */
    static ComputationGraphConfiguration userGraph() {
        return new NeuralNetConfiguration.Builder().seed(3).weightInit(WeightInit.RELU).activation(Activation.IDENTITY)
                .convolutionMode(ConvolutionMode.Same).graphBuilder().addInputs("in")
                .setInputTypes(InputType.convolutional(28, 28, 1))
                .addLayer("a", new ConvolutionLayer.Builder(3, 3).nOut(4).hasBias(false).build(), "in")
                .addLayer("a-bn", new BatchNormalization.Builder().build(), "a")
                .addLayer("a-relu", new ActivationLayer(Activation.RELU), "a-bn")
                .addLayer("pool", new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build(),
                        "a-relu")
                .addLayer("b", new ConvolutionLayer.Builder(3, 3).nOut(4).hasBias(false).build(), "pool")
                .addLayer("b-bn", new BatchNormalization.Builder().build(), "b")
                .addLayer("b-relu", new ActivationLayer(Activation.RELU), "b-bn")
                .addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "b-relu")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10)
                        .activation(Activation.SOFTMAX).build(), "gap")
                .setOutputs("out").build();
    }

    /** A beginner's MultiLayerNetwork with BN for 1x28x28 (flat input). */
    static MultiLayerConfiguration multiLayerNet() {
        return new NeuralNetConfiguration.Builder().seed(3).weightInit(WeightInit.RELU).activation(Activation.IDENTITY)
                .list()
                .layer(new ConvolutionLayer.Builder(3, 3).padding(1, 1).nOut(4).hasBias(false).build())
                .layer(new BatchNormalization.Builder().build())
                .layer(new ActivationLayer(Activation.RELU))
                .layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
                .layer(new DenseLayer.Builder().nOut(8).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutionalFlat(28, 28, 1)).build();
    }

    @Test
    void searchThenTrainThenCheckTheUsersGraph(@TempDir Path tmp) throws IOException {
        Path s = tmp.resolve("search");
        CapturedRun search = CapturedRun.of("search", "--graph", graph.toString(), "--data-dir", data.toString(), "--batch", "16",
                "--epochs", "1", "--no-progress", "--out", s.toString());
        assertEquals(0, search.exit(), search.err());
        CapturedRun.assertContains(search.out(), "GR sites: 2 of 2 conv layers", "scales=" + s.resolve("scales.json"));
        ScalesFile scales = ScalesFile.read(s.resolve("scales.json"));
        assertEquals(List.of("a", "b"), scales.blocks().stream().map(BlockScales::block).toList());

        CapturedRun train = CapturedRun.of("train", "--graph", graph.toString(), "--scales", s.resolve("scales.json").toString(),
                "--data-dir", data.toString(), "--batch", "16", "--epochs", "1", "--no-progress", "--out",
                tmp.resolve("train").toString());
        assertEquals(0, train.exit(), train.err());
        assertTrue(train.lastLine().startsWith("test_accuracy="), train.out());

        CapturedRun check = CapturedRun.of("check", "--graph", graph.toString(), "--scales", s.resolve("scales.json").toString(),
                "--steps", "5");
        assertEquals(0, check.exit(), check.out() + check.err());
        assertTrue(check.lastLine().startsWith("max_relative_gap="), check.out());
        assertTrue(Double.parseDouble(check.lastLine().substring("max_relative_gap=".length())) <= 1e-9, check.out());
    }

    @Test
    void checkPassesOnAMultiLayerNetworkAndFailsWithScalesThatDoNotFit(@TempDir Path tmp) throws IOException {
        Path fit = tmp.resolve("fit.json");
        new ScalesFile("mln", null, null, null, List.of(new BlockScales("layer0", 1, 4, 1, new double[]{1, 2, 1, 2},
                new double[]{0.5, 0.5, 1, 1}, null))).write(fit);
        CapturedRun ok = CapturedRun.of("check", "--graph", multiLayer.toString(), "--scales", fit.toString(), "--steps", "5",
                "--ablate");
        assertEquals(0, ok.exit(), ok.out() + ok.err());
        CapturedRun.assertContains(ok.out(), "no re-init", "layer0");

        CapturedRun search = CapturedRun.of("search", "--graph", multiLayer.toString(), "--data-dir", data.toString(), "--batch", "16",
                "--epochs", "1", "--no-progress", "--out", tmp.resolve("s").toString());
        assertEquals(0, search.exit(), search.err());
        assertEquals(List.of("layer0"), ScalesFile.read(tmp.resolve("s").resolve("scales.json")).blocks().stream()
                .map(BlockScales::block).toList());

        CapturedRun misfit = CapturedRun.of("check", "--graph", graph.toString(), "--scales", fit.toString());
        assertEquals(1, misfit.exit(), misfit.out());
        CapturedRun.assertContains(misfit.err(), "do not fit", "layer0");
        assertFalse(misfit.err().strip().contains("\n"), misfit.err());
    }

    @Test
    void checkPassesOnRepOptVggSmallWithTheFamilysScalesByOrder(@TempDir Path tmp) throws IOException {
        VggSpec small = VggSpec.small();
        Path vgg = write("repopt-vgg-small.json", RepOptVgg.builder(small).build().conf().toJson());
        Path scales = tmp.resolve("small-scales.json");
        CslaVgg.initialScales(small).write(scales);
        CapturedRun byName = CapturedRun.of("check", "--graph", vgg.toString(), "--scales", scales.toString(), "--steps", "2");
        assertEquals(1, byName.exit(), "blocks named stage0, ... are no layer names");
        CapturedRun.assertContains(byName.err(), "stage0");
        CapturedRun byOrder = CapturedRun.of("check", "--graph", vgg.toString(), "--scales", scales.toString(), "--steps", "5",
                "--by-order");
        assertEquals(0, byOrder.exit(), byOrder.out() + byOrder.err());
        CapturedRun.assertContains(byOrder.out(), "stage3.0.conv3x3");
    }

    @Test
    void badInputIsOneLineNamingTheFileOrLayer(@TempDir Path tmp) throws IOException {
        CapturedRun missing = CapturedRun.of("check", "--graph", tmp.resolve("nope.json").toString(), "--scales", graph.toString());
        assertEquals(2, missing.exit());
        CapturedRun.assertContains(missing.err(), "nope.json: no such file");

        Path notAConf = write("not-a-conf.json", "{\"model\": \"x\"}");
        CapturedRun wrongKind = CapturedRun.of("search", "--graph", notAConf.toString(), "--data-dir", data.toString());
        assertEquals(2, wrongKind.exit());
        CapturedRun.assertContains(wrongKind.err(), notAConf.toString(), "neither a ComputationGraphConfiguration");

        CapturedRun noScales = CapturedRun.of("train", "--graph", graph.toString(), "--data-dir", data.toString());
        assertEquals(2, noScales.exit());
        CapturedRun.assertContains(noScales.err(), "needs --scales FILE", "./repopt search --graph");

        Path noSite = write("dense.json", new NeuralNetConfiguration.Builder().list()
                .layer(new DenseLayer.Builder().nOut(8).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutionalFlat(28, 28, 1)).build().toJson());
        CapturedRun none = CapturedRun.of("search", "--graph", noSite.toString(), "--data-dir", data.toString(), "--out",
                tmp.resolve("s").toString());
        assertEquals(2, none.exit());
        CapturedRun.assertContains(none.err(), "no GR site");
    }

    @Test
    void theCommittedGraphIsTheExamplesGraph() throws IOException {
        Path file = Path.of(System.getProperty("repopt.home", ".."), "examples", "graphs", "fashion-vgg.json");
        if (!Files.exists(file)) {
            file = Path.of("graphs", "fashion-vgg.json");
        }
        assertEquals(HyperSearchOnYourNetwork.graph().toJson() + "\n", Files.readString(file),
                "examples/graphs/fashion-vgg.json is HyperSearchOnYourNetwork.graph().toJson()");
        ScalesFile scales = ScalesFile.read(file.resolveSibling("fashion-vgg-scales.json"));
        assertEquals(6, CslaTwin.csla(HyperSearchOnYourNetwork.graph(), scales.blocks()).blocks().size(),
                "the committed scales fit the committed graph by layer name");
    }
}
