package org.repopt.deploy;

import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.repopt.gr.RepOptimizer;
import org.repopt.model.GhostNetSpec;
import org.repopt.model.RepOptGhostNet;
import org.repopt.model.RepOptVgg;
import org.repopt.model.RepVgg;
import org.repopt.model.VggSpec;
import org.repopt.nn.ConvBnReluFusion;
import org.repopt.testing.GhostNets;
import org.repopt.testing.TinySpecs;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Every model family as a tiny float network trained a few steps (so batch-norm statistics and kernels moved from
 * their initial values), in the form a deployment starts from: RepVGG fused by its own {@code deploy}, the others as
 * trained, and RepOpt-VGG also with fused conv-BN-ReLU layers.
 */
public final class TrainedFamilies {

    /** A trained network, the input type it takes and a test batch of 256 images. */
    public record Trained(ComputationGraph net, InputType input, INDArray x) {
    }

    private TrainedFamilies() {
    }

    /** @return family name to its trained network, built on demand */
    public static Map<String, Supplier<Trained>> all() {
        Map<String, Supplier<Trained>> out = new LinkedHashMap<>();
        VggSpec vgg = TinySpecs.tiny();
        InputType vggIn = InputType.convolutional(vgg.inputHeight(), vgg.inputWidth(), vgg.inputChannels());
        out.put("RepOpt-VGG", () -> new Trained(trained(RepOptVgg.builder(vgg).dataType(DataType.FLOAT).build()
                .init(RepOptimizer.sgd(TinySpecs.randomScales(vgg, 3)).learningRate(0.05)), vgg), vggIn, x(vgg)));
        out.put("VGG", () -> new Trained(trained(RepOptVgg.builder(vgg).dataType(DataType.FLOAT).build()
                .init(RepOptimizer.baselineSgd().learningRate(0.05)), vgg), vggIn, x(vgg)));
        out.put("RepVGG", () -> {
            RepVgg model = RepVgg.builder(vgg).dataType(DataType.FLOAT).build();
            ComputationGraph multiBranch = trained(RepOptimizer.baselineSgd().learningRate(0.05)
                    .applyTo(model.conf()), vgg);
            return new Trained(model.deploy(multiBranch), vggIn, x(vgg));
        });
        out.put("RepOpt-VGG fused conv-BN-ReLU", () -> new Trained(ConvBnReluFusion.fuse(
                trained(RepOptVgg.builder(vgg).dataType(DataType.FLOAT).build()
                        .init(RepOptimizer.sgd(TinySpecs.randomScales(vgg, 4)).learningRate(0.05)), vgg)),
                vggIn, x(vgg)));
        out.put("RepOpt-GhostNet", () -> {
            GhostNetSpec spec = GhostNets.tiny();
            RepOptGhostNet model = RepOptGhostNet.builder(spec).dataType(DataType.FLOAT).build();
            // the target network with DL4J's default updater: RepOptGhostNet.init(RepOptimizer) does not take depthwise
            // scales yet (its module scales are written as dense-conv blocks); the optimizer's hooks are training
            // state the deploy model drops either way, as the VGG families show
            ComputationGraph net = model.init();
            for (int step = 0; step < 3; step++) {
                net.fit(GhostNets.batch(spec, 8, step, DataType.FLOAT));
            }
            return new Trained(net, model.inputType(), GhostNets.batch(spec, 256, 99, DataType.FLOAT).getFeatures());
        });
        return out;
    }

    private static ComputationGraph trained(ComputationGraph net, VggSpec spec) {
        for (int step = 0; step < 3; step++) {
            net.fit(TinySpecs.batch(spec, 8, step, DataType.FLOAT));
        }
        return net;
    }

    private static INDArray x(VggSpec spec) {
        return TinySpecs.batch(spec, 256, 99, DataType.FLOAT).getFeatures();
    }
}
