package org.repopt.search;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.repopt.gr.BlockScales;
import org.repopt.gr.GradMultHook;
import org.repopt.gr.RepOptimizer;
import org.repopt.gr.ScalesFile;
import org.repopt.model.CslaVgg;
import org.repopt.model.GhostNetSpec;
import org.repopt.model.LayerNames;
import org.repopt.model.RepOptVgg;
import org.repopt.model.VggSpec;
import org.repopt.testing.InMemoryImageDataset;
import org.repopt.testing.UserNets;
import org.repopt.train.TrainConfig;
import org.repopt.train.TrainResult;
import org.repopt.train.Trainer;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hyper-Search end to end on a tiny in-memory data set: search, export, load into RepOpt-VGG, train. */
class HyperSearchTest {

    private final VggSpec target = VggSpec.builder("tiny").input(1, 6, 6).classes(3).stem(4, 1)
            .stage(2, 6, 2).stage(1, 8, 2).build();

    @Test
    void searchExportLoadTrain(@TempDir Path dir) throws IOException {
        InMemoryImageDataset data = new InMemoryImageDataset("synthetic", 3, 1, 6, 6, 48, 12, DataType.DOUBLE, 4);
        Trainer trainer = new Trainer(TrainConfig.builder(dir.resolve("search")).epochs(2).batchSize(8)
                .learningRate(0.05).warmupEpochs(0).labelSmoothing(0).progress(false).build(), quiet());
        SearchResult result = new HyperSearch(target).run(data, trainer);

        ScalesFile loaded = ScalesFile.read(result.file());
        assertEquals(result.scales().blocks(), loaded.blocks(), "the file holds exactly the exported scales");
        assertNotEquals(1.0, loaded.blocks().get(2).scaleConv()[0], "scales moved during the search");
        assertEquals(String.format(Locale.ROOT, "Hyper-Search with repopt-dl4j on synthetic (%d training examples), "
                + "2 epochs, HS model top-1 %.4f; scales are per output channel, blocks in forward order",
                data.trainExamples(), result.training().finalTest().top1()), loaded.source());
        // issue 11, defect 9: every block's scales moved away from where the search started them ...
        ScalesFile initial = CslaVgg.initialScales(target);
        for (int b = 0; b < loaded.blocks().size(); b++) {
            BlockScales start = initial.blocks().get(b);
            BlockScales end = loaded.blocks().get(b);
            double moved = Math.max(maxDifference(start.scaleConv(), end.scaleConv()),
                    maxDifference(start.scale1x1(), end.scale1x1()));
            assertTrue(moved > 1e-3, "block " + end.block() + " moved its scales by " + moved + " only");
        }
        // ... and the search learned: its loss fell and it beats chance (1/3) on the held-out split
        double firstLoss = result.training().history().get(0).trainLoss();
        double lastLoss = result.training().history().get(1).trainLoss();
        assertTrue(lastLoss < 0.9 * firstLoss, "search loss " + firstLoss + " -> " + lastLoss);
        assertTrue(result.training().finalTest().top1() > 0.5, "search top-1 " + result.training().finalTest());

        RepOptVgg model = RepOptVgg.builder(target).dataType(DataType.DOUBLE).build();
        ComputationGraph net = model.init(RepOptimizer.sgd(loaded).learningRate(0.05));
        for (int i = 0; i < target.blocks().size(); i++) {
            BlockScales attached = ((GradMultHook) ((org.deeplearning4j.nn.conf.layers.BaseLayer) net
                    .getLayer(LayerNames.conv(target.blocks().get(i).name())).conf().getLayer())
                    .getRegularization().get(0)).scales();
            assertEquals(result.scales().blocks().get(i), attached, "block " + i + " carries the exported scales");
        }
        Trainer train = new Trainer(TrainConfig.builder(dir.resolve("train")).epochs(3).batchSize(8)
                .learningRate(0.05).warmupEpochs(0).labelSmoothing(0).progress(false).build(), quiet());
        TrainResult trained = train.train(net, data);
        double first = trained.history().get(0).trainLoss();
        double last = trained.history().get(2).trainLoss();
        assertTrue(last < 0.9 * first, "RepOpt-VGG with the searched scales: loss " + first + " -> " + last);
        double top1 = trained.finalTest().top1();
        assertTrue(top1 > 0.5, "RepOpt-VGG with the searched scales: top-1 " + top1 + ", chance is 1/3");
    }

    @Test
    void everySearchChecksItsRecipeAlike() {
        String momentum = "momentum must be in (0, 1), got 1.0";
        String weightDecay = "weightDecay must be finite and >= 0, got -1.0";
        GhostNetSpec ghost = GhostNetSpec.of(0.5);
        GraphHyperSearch graph = GraphHyperSearch.of(UserNets.userStyleGraph(), "user-style");
        assertEquals(momentum, assertThrows(IllegalArgumentException.class,
                () -> new HyperSearch(target, 1.0, 0)).getMessage());
        assertEquals(momentum, assertThrows(IllegalArgumentException.class,
                () -> new GhostNetHyperSearch(ghost, 1.0, 0)).getMessage());
        assertEquals(momentum, assertThrows(IllegalArgumentException.class, () -> graph.momentum(1.0)).getMessage());
        assertEquals(weightDecay, assertThrows(IllegalArgumentException.class,
                () -> new HyperSearch(target, 0.9, -1)).getMessage());
        assertEquals(weightDecay, assertThrows(IllegalArgumentException.class,
                () -> new GhostNetHyperSearch(ghost, 0.9, -1)).getMessage());
        assertEquals(weightDecay, assertThrows(IllegalArgumentException.class, () -> graph.weightDecay(-1))
                .getMessage());
        assertThrows(NullPointerException.class, () -> new HyperSearch(null, 1.0, -1), "the target is checked first");
    }

    private static double maxDifference(double[] a, double[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }

    private static PrintStream quiet() {
        return new PrintStream(OutputStream.nullOutputStream());
    }
}
