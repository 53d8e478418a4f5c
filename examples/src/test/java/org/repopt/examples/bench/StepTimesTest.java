package org.repopt.examples.bench;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The benchmark's step-by-step timing and its order of families. */
class StepTimesTest {

    private static ComputationGraph tiny(String name, List<String> log) {
        ComputationGraph net = new ComputationGraph(new NeuralNetConfiguration.Builder().seed(1).graphBuilder()
                .addInputs("in").addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nIn(3).nOut(2).activation(Activation.SOFTMAX).build(), "in").setOutputs("out").build());
        net.init();
        net.setListeners(new BaseTrainingListener() {
            @Override
            public void iterationDone(Model model, int iteration, int epoch) {
                log.add(name);
            }
        });
        return net;
    }

    @Test
    void timesEveryStepOfBothNetworksAlternatingWhichGoesFirst() {
        List<String> log = new ArrayList<>();
        DataSet batch = new DataSet(Nd4j.rand(4, 3), Nd4j.create(new double[][]{{1, 0}, {0, 1}, {1, 0}, {0, 1}}));
        StepTimes t = StepTimes.alternate(tiny("a", log), tiny("b", log), batch, 3);
        assertEquals(List.of("a", "b", "b", "a", "a", "b"), log);
        assertEquals(3, t.a().reps().size());
        assertEquals(3, t.b().reps().size());
        assertTrue(t.a().reps().stream().allMatch(ms -> ms > 0), t.a().reps().toString());
        assertEquals(t.b().median() / t.a().median(), t.aOverB(), 1e-12);
    }

    @Test
    void quartilesInterpolateBetweenNeighbours() {
        Benchmark.Figure f = Benchmark.Figure.of(List.of(4.0, 1.0, 3.0, 2.0));
        assertEquals(2.5, f.median(), 0);
        assertEquals(List.of(1.75, 2.5, 3.25), f.quartiles());
        assertEquals(3.0, Benchmark.Figure.of(List.of(5.0, 3.0, 1.0)).median(), 0);
        assertEquals(List.of(7.0, 7.0, 7.0), Benchmark.Figure.of(List.of(7.0)).quartiles());
    }

    @Test
    void oddRepetitionsTrainTheFamiliesInReverseKeepingRepOptNextToNesterovs() {
        assertEquals(List.of(BenchFamily.REPOPT, BenchFamily.NESTEROVS, BenchFamily.REPVGG, BenchFamily.HS),
                Benchmark.familyOrder(0));
        assertEquals(List.of(BenchFamily.HS, BenchFamily.REPVGG, BenchFamily.NESTEROVS, BenchFamily.REPOPT),
                Benchmark.familyOrder(1));
        assertEquals(Benchmark.familyOrder(0), Benchmark.familyOrder(2));
    }
}
