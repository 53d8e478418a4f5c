package org.repopt.examples.cli;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.repopt.nn.BlockEngine;
import picocli.CommandLine.Option;

/** {@code --engine}: how conv-BN-ReLU blocks are computed. */
final class EngineArgs {

    @Option(names = "--engine", paramLabel = "dl4j|onednn",
            description = "How conv-BN-ReLU blocks are computed: onednn (one fused layer per block on oneDNN, the "
                    + "default on the CPU backend when oneDNN is present) or dl4j (DL4J's conv, batch-norm and ReLU "
                    + "layers, the default elsewhere).")
    String engine;

    /** @return the chosen engine, or the default for FLOAT networks */
    BlockEngine engine() {
        return engine == null ? BlockEngine.defaultFor(DataType.FLOAT) : BlockEngine.parse(engine);
    }

    /**
     * @param net a freshly built network (replaced: do not use it afterwards)
     * @return the network in the chosen engine's form
     */
    ComputationGraph apply(ComputationGraph net) {
        return engine().applyReplacing(net);
    }
}
