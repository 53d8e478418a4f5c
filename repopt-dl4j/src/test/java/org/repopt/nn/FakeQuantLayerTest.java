package org.repopt.nn;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.repopt.backend.OneDnnHelpers;

import java.io.File;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FakeQuantLayerTest {

    private static Layer instantiate(FakeQuantLayer conf) {
        NeuralNetConfiguration nnc = new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE).layer(conf).build();
        return conf.instantiate(nnc, List.of(), 0, null, true, DataType.DOUBLE);
    }

    @Test
    void forwardRoundsTiesToEvenAndClamps() {
        Layer l = instantiate(new FakeQuantLayer.Builder().scale(0.5).unsigned8().build());
        // In grid units: -3 -> 0 (clamped), 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, 3.2 -> 3, 300 -> 255 (clamped).
        INDArray x = Nd4j.create(new double[]{-1.5, 0.25, 0.75, 1.25, 1.6, 150});
        l.setInput(x, LayerWorkspaceMgr.noWorkspaces());
        INDArray y = l.activate(false, LayerWorkspaceMgr.noWorkspaces());
        assertArrayEquals(new double[]{0, 0, 1.0, 1.0, 1.5, 127.5}, y.toDoubleVector(), 0);
        Layer s = instantiate(new FakeQuantLayer.Builder().scale(0.5).signed8().build());
        s.setInput(Nd4j.create(new double[]{-100, -1.25, 1.25, 100}), LayerWorkspaceMgr.noWorkspaces());
        assertArrayEquals(new double[]{-63.5, -1.0, 1.0, 63.5},
                s.activate(false, LayerWorkspaceMgr.noWorkspaces()).toDoubleVector(), 0);
    }

    @Test
    void forwardErrorIsAtMostHalfAStepInsideTheRange() {
        double scale = 0.013;
        Layer l = instantiate(new FakeQuantLayer.Builder().scale(scale).signed8().build());
        Nd4j.getRandom().setSeed(5);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 4, 3, 5, 5).subi(0.5).muli(2 * 127 * scale);
        l.setInput(x, LayerWorkspaceMgr.noWorkspaces());
        INDArray y = l.activate(false, LayerWorkspaceMgr.noWorkspaces());
        assertArrayEquals(x.shape(), y.shape());
        double err = x.sub(y).amaxNumber().doubleValue();
        assertTrue(err <= scale / 2 * (1 + 1e-12), "max error " + err);
    }

    @Test
    void backwardIsTheStraightThroughEstimator() {
        Layer l = instantiate(new FakeQuantLayer.Builder().scale(1).range(-2, 3).build());
        l.setInput(Nd4j.create(new double[]{-2.5, -2, 0.3, 3, 3.1}), LayerWorkspaceMgr.noWorkspaces());
        l.activate(true, LayerWorkspaceMgr.noWorkspaces());
        INDArray eps = Nd4j.create(new double[]{1, 2, 3, 4, 5});
        INDArray d = l.backpropGradient(eps, LayerWorkspaceMgr.noWorkspaces()).getSecond();
        assertArrayEquals(new double[]{0, 2, 3, 4, 0}, d.toDoubleVector(), 0);
    }

    private static ComputationGraphConfiguration graphConf() {
        return new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE).graphBuilder().addInputs("x")
                .addLayer("q", new FakeQuantLayer.Builder().scale(0.1).unsigned8().build(), "x")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nOut(4)
                        .activation(Activation.IDENTITY).build(), "q")
                .setOutputs("out").setInputTypes(InputType.feedForward(4)).build();
    }

    @Test
    void jsonAndModelFileRoundTrip(@TempDir Path dir) throws Exception {
        ComputationGraphConfiguration conf = graphConf();
        String json = conf.toJson();
        assertTrue(json.contains("org.repopt.nn.FakeQuantLayer"), json);
        ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(json);
        assertEquals(conf, back);
        assertEquals(json, back.toJson());
        FakeQuantLayer layer = (FakeQuantLayer) ((LayerVertex) back.getVertices().get("q")).getLayerConf().getLayer();
        assertEquals(0.1, layer.getScale(), 0);
        assertEquals(0, layer.getGridMin());
        assertEquals(255, layer.getGridMax());

        OneDnnHelpers.enable();
        ComputationGraph g = new ComputationGraph(conf);
        g.init();
        // The dense layer passes the quantized values through unchanged.
        g.getLayer("out").getParam("W").assign(Nd4j.eye(4));
        g.getLayer("out").getParam("b").assign(0);
        File f = dir.resolve("fq.zip").toFile();
        ModelSerializer.writeModel(g, f, false);
        ComputationGraph restored = ModelSerializer.restoreComputationGraph(f, false);
        INDArray x = Nd4j.create(new double[][]{{-1, 0.04, 0.05, 0.26}, {0.151, 30, 12.345, 25.5}});
        INDArray expected = Nd4j.create(new double[][]{{0, 0, 0, 0.3}, {0.2, 25.5, 12.3, 25.5}});
        INDArray y = g.outputSingle(x);
        INDArray yr = restored.outputSingle(x);
        assertEquals(DataType.DOUBLE, yr.dataType());
        assertEquals(conf, restored.getConfiguration());
        for (int i = 0; i < 2; i++) {
            assertArrayEquals(expected.toDoubleMatrix()[i], y.toDoubleMatrix()[i], 1e-15);
            assertArrayEquals(y.toDoubleMatrix()[i], yr.toDoubleMatrix()[i], 0);
        }
    }

    @Test
    void badConfigurationsAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new FakeQuantLayer.Builder().name("fq1").scale(0).unsigned8().build());
        assertTrue(e.getMessage().contains("'fq1': scale must be finite and > 0, got 0.0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new FakeQuantLayer.Builder().name("fq2").scale(1).range(1, 255).build());
        assertTrue(e.getMessage().contains("'fq2': integer range [1, 255] must contain 0"), e.getMessage());
        IllegalStateException s = assertThrows(IllegalStateException.class,
                () -> new FakeQuantLayer.Builder().name("fq3").scale(1).build());
        assertTrue(s.getMessage().contains("'fq3': no integer range set"), s.getMessage());
        // A hand-edited saved configuration is checked when it is instantiated.
        String json = graphConf().toJson().replace("\"scale\" : 0.1", "\"scale\" : -1.0");
        ComputationGraphConfiguration bad = ComputationGraphConfiguration.fromJson(json);
        e = assertThrows(IllegalArgumentException.class, () -> new ComputationGraph(bad).init());
        assertTrue(e.getMessage().contains("'q': scale must be finite and > 0, got -1.0"), e.getMessage());
    }
}
