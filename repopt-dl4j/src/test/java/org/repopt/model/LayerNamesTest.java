package org.repopt.model;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.junit.jupiter.api.Test;
import org.repopt.testing.TinySpecs;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Layer names fit DL4J's tools: no '_' (DL4J's parameter separator), no name a prefix of another (the UI's grouping). */
class LayerNamesTest {

    private static final VggSpec SPEC = TinySpecs.tiny();

    private static Map<String, ComputationGraphConfiguration> everyFamily() {
        GhostNetSpec ghost = GhostNetSpec.of(GhostNetSpec.RELEASED_WIDTH);
        return Map.of("RepOpt-VGG", RepOptVgg.builder(SPEC).build().conf(),
                "RepVGG", RepVgg.builder(SPEC).build().conf(),
                "Hyper-Search", CslaVgg.builder(SPEC).build().conf(),
                "fused", FusedVgg.builder(SPEC).build().conf(),
                "RepOpt-GhostNet", RepOptGhostNet.builder(ghost).build().conf(),
                "RepOpt-GhostNet search", RepOptGhostNet.builder(ghost).search().build().conf());
    }

    @Test
    void noLayerNameIsAPrefixOfAnother() {
        assertTrue(SPEC.blocks().stream().anyMatch(BlockSpec::hasIdentity), "the spec has identity blocks");
        everyFamily().forEach((family, conf) -> {
            List<String> names = new ArrayList<>(conf.getVertices().keySet());
            names.addAll(conf.getNetworkInputs());
            for (String a : names) {
                assertTrue(a.indexOf('_') < 0, family + ": '" + a + "' contains '_'");
                for (String b : names) {
                    assertTrue(a.equals(b) || !b.startsWith(a), family + ": '" + a + "' is a prefix of '" + b
                            + "': DL4J's training UI would show the parameters of '" + b + "' on the page of '" + a
                            + "'");
                }
            }
        });
    }

    @Test
    void everyBranchOfABlockHasItsOwnName() {
        String block = SPEC.blocks().stream().filter(BlockSpec::hasIdentity).findFirst().orElseThrow().name();
        List<String> repVgg = List.of(LayerNames.conv(block), LayerNames.bn3x3(block), LayerNames.conv1x1(block),
                LayerNames.bn1x1(block), LayerNames.bnIdentity(block));
        assertTrue(RepVgg.builder(SPEC).build().conf().getVertices().keySet().containsAll(repVgg));
        assertEquals(block + ".conv3x3", LayerNames.conv(block));
        assertTrue(RepOptVgg.builder(SPEC).build().conf().getVertices().keySet()
                .containsAll(List.of(LayerNames.conv(block), LayerNames.bn(block))));
    }
}
