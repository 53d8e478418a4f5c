package org.repopt.testing;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.repopt.gr.BlockScales;
import org.repopt.model.GhostModuleSpec;
import org.repopt.model.GhostNetSpec;
import org.repopt.model.RepOptGhostNet;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** Small RepOpt-GhostNets, their scales and data for fast tests. */
public final class GhostNets {

    private GhostNets() {
    }

    /**
     * Width 0.25 (stem 4, bottlenecks up to 120 channels) at 3x36x36, 3 classes, no dropout. The last stage works on
     * 2x2 maps: at 1x1, BatchNorm over a test-sized batch sees near-zero variances and multiplies gradients by up to
     * {@code 1/sqrt(eps)} per layer.
     */
    public static GhostNetSpec tiny() {
        return GhostNetSpec.of(0.25).withInput(3, 36, 36).withClasses(3).withDropout(0);
    }

    /** @return every scale 1 */
    public static BlockScales ones(GhostModuleSpec m) {
        double[] one = new double[m.channels()];
        Arrays.fill(one, 1.0);
        return RepOptGhostNet.moduleScales(m, one, one);
    }

    /** Random but reproducible positive scales for every module of {@code spec}. */
    public static List<BlockScales> randomScales(GhostNetSpec spec, long seed) {
        Random r = new Random(seed);
        List<BlockScales> out = new ArrayList<>();
        for (GhostModuleSpec m : spec.modules()) {
            out.add(RepOptGhostNet.moduleScales(m, TinySpecs.positive(r, m.channels()), TinySpecs.positive(r, m.channels())));
        }
        return out;
    }

    /** A reproducible random batch of {@code spec}'s shape with one-hot labels. */
    public static DataSet batch(GhostNetSpec spec, int n, long seed, DataType type) {
        return TinySpecs.batch(n, spec.inputChannels(), spec.inputHeight(), spec.inputWidth(), spec.numClasses(), seed,
                type);
    }
}
