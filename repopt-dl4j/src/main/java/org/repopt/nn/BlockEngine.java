package org.repopt.nn;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.repopt.backend.OneDnn;

import java.util.Locale;

/**
 * How the {@code conv -> BatchNormalization -> ReLU} blocks of a network are computed: the one place that choice
 * is made for the model builders, the command line ({@code --engine}) and the benchmark.
 */
public enum BlockEngine {
    /** DL4J's convolution, batch-norm and activation layers: three layers per block, on every backend and type. */
    DL4J,
    /** One {@link ConvBnReluLayer} per block, on oneDNN with cached primitives (FLOAT on the CPU backend). */
    ONEDNN;

    /**
     * The default: {@link #ONEDNN} where it serves (the CPU backend with the dnnl preset present, FLOAT networks),
     * {@link #DL4J} otherwise (CUDA, a build without dnnl, DOUBLE or HALF).
     *
     * @param type the network's data type
     * @return the engine
     */
    public static BlockEngine defaultFor(DataType type) {
        return type == DataType.FLOAT && OneDnn.available() ? ONEDNN : DL4J;
    }

    /**
     * @param name {@code dl4j} or {@code onednn} (any case)
     * @return the engine
     * @throws IllegalArgumentException naming the known engines
     */
    public static BlockEngine parse(String name) {
        for (BlockEngine e : values()) {
            if (e.name().equalsIgnoreCase(name)) {
                return e;
            }
        }
        throw new IllegalArgumentException("unknown engine '" + name + "'; known: dl4j, onednn");
    }

    /** @return the command-line name, {@code dl4j} or {@code onednn} */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * @param conf a graph configuration (not changed)
     * @return {@code conf} with its blocks in this engine's form ({@link ConvBnReluFusion})
     */
    public ComputationGraphConfiguration apply(ComputationGraphConfiguration conf) {
        return this == ONEDNN ? ConvBnReluFusion.fuse(conf) : ConvBnReluFusion.unfuse(conf);
    }

    /**
     * Puts a network's blocks into this engine's form, keeping parameters, counts and updater state; a network that
     * is already in that form is returned as it is. Otherwise {@code net}'s parameter memory is released at once:
     * it must not be used afterwards.
     *
     * @param net a network nobody else holds
     * @return the network in this engine's form
     */
    public ComputationGraph applyReplacing(ComputationGraph net) {
        ComputationGraph out = this == ONEDNN ? ConvBnReluFusion.fuse(net) : ConvBnReluFusion.unfuse(net);
        if (out != net && net.params().closeable()) {
            net.params().close();
        }
        return out;
    }
}
