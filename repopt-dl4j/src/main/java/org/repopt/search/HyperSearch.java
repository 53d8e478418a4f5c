package org.repopt.search;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.repopt.data.ImageDataset;
import org.repopt.gr.RepOptimizer;
import org.repopt.gr.ScalesFile;
import org.repopt.gr.TorchSgd;
import org.repopt.model.CslaVgg;
import org.repopt.model.VggSpec;
import org.repopt.train.TrainResult;

/**
 * Hyper-Search (Ding et al., ICLR 2023, section 3.3; docs/METHOD.md#hyper-search): trains the Hyper-Search model
 * ({@link CslaVgg}, every CSLA scale trainable) of the target architecture on a search data set with SGD,
 * Nesterov momentum and L2 weight decay on the kernels, the identity scales and the linear weight (not on the branch
 * scales {@code s3}, {@code s1}, nor BatchNorm: the reference code's rule, docs/METHOD.md#hyper-search-recipe), then exports the trained scales
 * as a scales file ({@value #SCALES_FILE} in the run's output folder) that {@code RepOptVgg} takes as constants.
 *
 * <p>The architecture is adapted to the search data's input shape and class count; block names, channels and
 * strides stay those of the target, so the file fits the target model.
 */
public final class HyperSearch extends FamilyHyperSearch<VggSpec, CslaVgg> {

    /** Where a finished search writes its scales, inside the run's output folder. */
    public static final String SCALES_FILE = "scales.json";
    /** The paper's search weight decay: its training weight decay. */
    public static final double DEFAULT_WEIGHT_DECAY = RepOptimizer.DEFAULT_WEIGHT_DECAY;

    /**
     * @param target      the architecture whose scales are searched
     * @param momentum    Nesterov momentum in {@code (0, 1)} (paper: 0.9)
     * @param weightDecay L2 weight decay, {@code >= 0} (paper: 4e-5)
     */
    public HyperSearch(VggSpec target, double momentum, double weightDecay) {
        super(target, momentum, weightDecay);
    }

    /** @param target the architecture whose scales are searched, with the paper's momentum and weight decay */
    public HyperSearch(VggSpec target) {
        this(target, TorchSgd.DEFAULT_MOMENTUM, DEFAULT_WEIGHT_DECAY);
    }

    /**
     * @param data the search data set
     * @return the Hyper-Search model for the target architecture at the data's input shape and class count
     */
    @Override
    public CslaVgg modelFor(ImageDataset data) {
        return CslaVgg.builder(target.withInput(data.channels(), data.height(), data.width())
                .withClasses(data.numClasses())).dataType(data.options().dataType()).build();
    }

    @Override
    ComputationGraphConfiguration conf(CslaVgg model) {
        return model.conf();
    }

    @Override
    ScalesFile exportScales(CslaVgg model, ComputationGraph net, ImageDataset data, TrainResult training) {
        return model.exportScales(net, SearchRecipe.provenance(null, data, training, "HS model",
                "scales are per output channel, blocks in forward order"));
    }
}
