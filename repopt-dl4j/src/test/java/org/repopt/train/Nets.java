package org.repopt.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.repopt.gr.BlockScales;
import org.repopt.gr.RepOptimizer;
import org.repopt.testing.TinyNets;

import java.util.List;

/** Tiny networks for the trainer's tests: conv3x3(pad 1) -> BN -> ReLU -> global average pool -> softmax. */
final class Nets {

    private Nets() {
    }

    /** One 3x3 conv block with 4 channels and its Grad Mult, trained by the RepOptimizer (TorchSgd, Nesterov). */
    static ComputationGraph repopt(int channels, int classes, int size, DataType type, long seed) {
        BlockScales block = new BlockScales("b0", channels, 4, 1, new double[]{1.0, 0.8, 1.2, 0.9},
                new double[]{0.5, 0.7, 0.6, 1.1}, null);
        return RepOptimizer.sgd(List.of(block)).applyTo(TinyNets.plain(List.of(block), classes, size, size, type,
                seed));
    }

    /** The same graph with the plain SGD baseline (no Grad Mult). */
    static ComputationGraph baseline(int channels, int classes, int size, DataType type, long seed) {
        BlockScales block = new BlockScales("b0", channels, 4, 1, new double[]{1, 1, 1, 1}, new double[]{1, 1, 1, 1},
                null);
        return RepOptimizer.baselineSgd().applyTo(TinyNets.plain(List.of(block), classes, size, size,
                type, seed));
    }
}
