package org.repopt.search;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.nd4j.linalg.learning.regularization.L2Regularization;
import org.repopt.check.EquivalenceCheck;
import org.repopt.check.EquivalenceReport;
import org.repopt.check.NetworkInput;
import org.repopt.gr.BlockScales;
import org.repopt.gr.RepOptimizer;
import org.repopt.gr.ScalesFile;
import org.repopt.nn.ChannelScaleParamInitializer;
import org.repopt.testing.UserNets;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Hyper-Search on a user's own graph: twin, training on a DataSetIterator, export keyed by the user's names, use. */
class GraphHyperSearchTest {

    private static DataSetIterator data(ComputationGraphConfiguration conf) {
        NetworkInput input = NetworkInput.of(conf);
        List<DataSet> batches = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            batches.add(input.randomBatch(8, 40 + i, DataType.FLOAT));
        }
        return new ListDataSetIterator<>(batches, 1);
    }

    @Test
    void searchStartsAtThePapersScalesAndDecaysOnlyTheIdentityScale() {
        ComputationGraphConfiguration conf = UserNets.userStyleGraph();
        GraphHyperSearch search = GraphHyperSearch.of(conf, "user-style");
        List<BlockScales> initial = search.twin().blocks();
        assertEquals(1.0, initial.get(0).scaleConv()[0], "c1 has no identity branch: a stage's first block");
        assertEquals(Math.sqrt(2.0), initial.get(1).scaleConv()[0], 1e-15, "c2: the first identity block, sqrt(2/1)");
        assertEquals(1.0, initial.get(2).scaleConv()[0], "c3 changes channels: a new stage");
        assertEquals(1.0, initial.get(1).scaleIdentity()[0]);

        ComputationGraph net = search.network();
        String key = ChannelScaleParamInitializer.SCALE_KEY;
        for (String branch : List.of(CslaTwin.scaleConv("c2"), CslaTwin.scale1x1("c2"))) {
            List<?> reg = net.getLayer(branch).conf().getLayer().getRegularizationByParam(key);
            assertTrue(reg == null || reg.isEmpty(), branch + " is decayed: " + reg);
        }
        List<?> identity = net.getLayer(CslaTwin.scaleIdentity("c2")).conf().getLayer().getRegularizationByParam(key);
        assertNotNull(identity);
        assertTrue(identity.stream().anyMatch(r -> r instanceof L2Regularization), "identity scale not decayed");
    }

    @Test
    void aMultiLayerNetworkIsSearchedUnderItsLayerNamesAndAGraphWithoutSiteIsRefused() {
        ScalesFile scales = GraphHyperSearch.of(UserNets.multiLayerNet(), "lenet").learningRate(0.05)
                .search(data(org.repopt.gr.MultiLayerAsGraph.toGraph(UserNets.multiLayerNet())), 1);
        assertEquals(List.of("layer0", "layer4"), scales.blocks().stream().map(BlockScales::block).toList());
        RepOptimizer.sgd(scales).mapByBlockName().applyTo(UserNets.multiLayerNet());

        ComputationGraphConfiguration noSite = new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder()
                .graphBuilder().addInputs("in").setInputTypes(org.deeplearning4j.nn.conf.inputs.InputType.feedForward(4))
                .addLayer("dense", new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nOut(3).build(), "in")
                .addLayer("out", new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder().nOut(2).build(), "dense")
                .setOutputs("out").build();
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> GraphHyperSearch.of(noSite, "dense"));
        assertTrue(e.getMessage().contains("no GR site"), e.getMessage());
    }

    @Test
    void readingThePlainNetworkAsItsTwinNamesTheMissingLayer() {
        ComputationGraphConfiguration conf = UserNets.userStyleGraph();
        CslaTwin twin = GraphHyperSearch.of(conf, "user-style").twin();
        ComputationGraph plain = new ComputationGraph(conf);
        plain.init();
        String expected = "the network has no layer '" + CslaTwin.scaleConv("c1")
                + "': not built from this twin's configuration";
        assertEquals(expected, org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> twin.exportScales(plain, "user-style", null)).getMessage());
        assertEquals(expected, org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> twin.equivalentKernels(plain)).getMessage());
    }

    @Test
    void aDepthwiseSiteGetsNoOneByOneBranch() {
        ComputationGraphConfiguration conf = UserNets.depthwiseGraph();
        GraphHyperSearch search = GraphHyperSearch.of(conf, "dw");
        assertEquals(List.of("stem", "dw1", "dw2"), search.twin().blocks().stream().map(BlockScales::block).toList());
        BlockScales dw1 = search.twin().blocks().get(1);
        assertTrue(dw1.depthwise() && dw1.scale1x1() == null && dw1.hasIdentity(), dw1.toString());
        ScalesFile scales = search.learningRate(0.05).search(data(conf), 1);
        assertNull(scales.blocks().get(2).scale1x1());
        EquivalenceReport r = EquivalenceCheck.builder().steps(5).build().run(conf, scales);
        assertTrue(r.passed(), r.toText());
    }

    @Test
    void searchExportsScalesKeyedByTheUsersConvNamesThatTheOneLineMapsAndTheCheckPasses(@TempDir Path dir)
            throws Exception {
        ComputationGraphConfiguration conf = UserNets.userStyleGraph();
        ScalesFile scales = GraphHyperSearch.of(conf, "user-style").learningRate(0.05).search(data(conf), 2);
        assertEquals(List.of("c1", "c2", "c3", "c4"), scales.blocks().stream().map(BlockScales::block).toList());
        double[] initial = new double[4];
        Arrays.fill(initial, Math.sqrt(2.0));
        assertFalse(Arrays.equals(initial, scales.blocks().get(1).scaleConv()), "the branch scales did not train");
        assertNull(scales.blocks().get(0).scaleIdentity());

        Path file = dir.resolve("scales.json");
        scales.write(file);
        ScalesFile read = ScalesFile.read(file);
        assertArrayEquals(scales.blocks().get(3).scale1x1(), read.blocks().get(3).scale1x1(), 0.0);

        ComputationGraph net = RepOptimizer.sgd(read).mapByBlockName().applyTo(conf);
        net.fit(data(conf).next());
        EquivalenceReport r = EquivalenceCheck.builder().steps(5).build().run(conf, read);
        assertTrue(r.passed(), r.toText());
    }
}
