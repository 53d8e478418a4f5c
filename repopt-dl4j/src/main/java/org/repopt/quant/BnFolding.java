package org.repopt.quant;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.repopt.deploy.DeployModel;
import org.repopt.nn.ConvBnReluFusion;


/**
 * Folds every inference-mode batch normalization of a {@linkplain PlainVgg plain VGG} into the convolution before
 * it, giving the deployable graph: per output channel {@code o},
 * <pre>
 *   k[o]      = gamma[o] / sqrt(var[o] + eps)
 *   W'[o,...] = W[o,...] * k[o]
 *   b'[o]     = beta[o] + (b[o] - mean[o]) * k[o]        (b = 0 for a convolution without bias)
 * </pre>
 * with the running mean and variance (stored as a variance or, with {@code useLogStd}, as {@code log10(std)}) and
 * the layer's own {@code eps}. The result computes the original graph's inference outputs exactly up to
 * floating-point rounding. Folding is pure: the input graph is never modified. The arithmetic is the deploy model's
 * ({@link DeployModel#of}); this class adds the plain-VGG structure check the quantization tools rely on.
 */
public final class BnFolding {

    private BnFolding() {
    }

    /**
     * @param trained a trained plain VGG (blocks with or without batch normalization, or fused conv-BN-ReLU layers)
     * @return a new graph without batch normalization whose convolutions all have a bias; blocks that had no batch
     * normalization keep their convolution unchanged. The new graph is the {@linkplain DeployModel deploy model}:
     * stock DL4J layers, no updater state, same layer names.
     * @throws IllegalArgumentException if the graph is not a plain VGG
     */
    public static ComputationGraph fold(ComputationGraph trained) {
        // Fused conv-BN-ReLU layers are split into DL4J's three layers first (same parameters).
        PlainVgg.of(ConvBnReluFusion.unfuse(trained));
        // The folding itself is the deploy model's (one owner): same names, stock layers, BN folded.
        return DeployModel.of(trained);
    }
}
