package org.repopt.examples.bench;

import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.repopt.gr.GradMultHook;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code bench --ghostnet}: the three networks it times, and the figures it prints (one short repetition). */
class GhostNetBenchTest {

    private static long gradMultHooks(ComputationGraph net) {
        return net.getConfiguration().getVertices().values().stream().filter(LayerVertex.class::isInstance)
                .map(v -> ((LayerVertex) v).getLayerConf().getLayer()).filter(BaseLayer.class::isInstance)
                .map(l -> ((BaseLayer) l).getRegularization()).filter(r -> r != null)
                .mapToLong(r -> r.stream().filter(GradMultHook.class::isInstance).count()).sum();
    }

    @Test
    void comparesTheRepOptimizerWithTheHyperSearchModelAndPlainSgd() {
        GhostNetBench bench = new GhostNetBench(Preset.SMALL, 0, 1, 1);
        assertEquals(32, gradMultHooks(bench.network(GhostNetBench.Family.REPOPT, 1)), "Grad Mult on every cheap conv");
        assertEquals(0, gradMultHooks(bench.network(GhostNetBench.Family.PLAIN, 1)));
        ComputationGraph hs = bench.network(GhostNetBench.Family.HS, 1);
        assertEquals(0, gradMultHooks(hs));
        assertTrue(hs.numParams() > bench.network(GhostNetBench.Family.PLAIN, 1).numParams(), "HS has the scales");

        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Map<String, Object> figures = bench.run(new PrintStream(log, true, StandardCharsets.UTF_8));
        assertEquals("RepOptGhostNet-0.5x", figures.get("ghostnet_model"));
        for (String k : new String[]{"repopt", "plain", "hs"}) {
            double ips = ((Number) figures.get("ghostnet_" + k + "_imgs_per_sec")).doubleValue();
            assertTrue(ips > 0 && Double.isFinite(ips), k + ": " + ips);
        }
        String table = GhostNetBench.table(figures);
        assertTrue(table.contains("RepOpt / Hyper-Search throughput"), table);
    }
}
