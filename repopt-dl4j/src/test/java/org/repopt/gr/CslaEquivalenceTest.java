package org.repopt.gr;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.repopt.model.BlockSpec;
import org.repopt.model.CslaVgg;
import org.repopt.model.LayerNames;
import org.repopt.model.RepOptVgg;
import org.repopt.model.VggSpec;
import org.repopt.testing.TinySpecs;

import java.util.List;
import java.util.Map;

/**
 * Equivalence inside DL4J: the CSLA graph (3x3 and 1x1 convs, constant per-channel scales, trainable identity scale
 * with the same L2, one BN after the sum) trained with DL4J's plain {@link Nesterovs}, and the plain graph trained
 * with the RepOptimizer, have the same equivalent kernels after every one of 20 steps; leaving out either the
 * re-initialization or the Grad Mult breaks it.
 */
class CslaEquivalenceTest extends CslaEquivalenceChecks {

    private final VggSpec spec = TinySpecs.tiny();
    private final List<BlockScales> scales = TinySpecs.randomScales(spec, 11);

    /** Trains both graphs side by side and returns the largest relative kernel gap seen after any step. */
    @Override
    double maxRelativeGap(boolean reinit, boolean gradMult) {
        CslaVgg cslaModel = CslaVgg.builder(spec).csla(scales).dataType(DataType.DOUBLE).seed(5).build();
        ComputationGraph csla = RepOptimizer.baselineSgd().updater(new Nesterovs(LR, MOMENTUM))
                .weightDecay(WD).applyTo(cslaModel.conf());
        RepOptVgg plainModel = RepOptVgg.builder(spec).dataType(DataType.DOUBLE).seed(6).build();
        RepOptimizer.Builder opt = (gradMult ? RepOptimizer.sgd(scales) : RepOptimizer.baselineSgd())
                .updater(new Nesterovs(LR, MOMENTUM)).weightDecay(WD).fineTune();
        ComputationGraph plain = gradMult ? plainModel.init(opt) : opt.applyTo(plainModel.conf());
        // Same start: kernels from the CSLA network's own init (the Rule of Initialization, or just its 3x3 part),
        // the same classifier; BN starts at gamma 1, beta 0 in both.
        for (int i = 0; i < spec.blocks().size(); i++) {
            BlockSpec b = spec.blocks().get(i);
            INDArray start = reinit ? cslaModel.equivalentKernels(csla).get(b.name())
                    : csla.getLayer(LayerNames.conv(b.name())).getParam("W").dup();
            plain.getLayer(LayerNames.conv(b.name())).getParam("W").assign(start);
        }
        plain.getLayer(LayerNames.LINEAR).getParam("W").assign(csla.getLayer(LayerNames.LINEAR).getParam("W"));
        plain.getLayer(LayerNames.LINEAR).getParam("b").assign(csla.getLayer(LayerNames.LINEAR).getParam("b"));

        double worst = 0;
        for (int step = 0; step < STEPS; step++) {
            DataSet ds = TinySpecs.batch(spec, 6, 100 + step, DataType.DOUBLE);
            csla.fit(ds);
            plain.fit(ds);
            Map<String, INDArray> equivalent = cslaModel.equivalentKernels(csla);
            for (BlockSpec b : spec.blocks()) {
                INDArray expected = equivalent.get(b.name());
                INDArray actual = plain.getLayer(LayerNames.conv(b.name())).getParam("W");
                worst = Math.max(worst, relativeGap(expected, actual));
            }
        }
        return worst;
    }
}
