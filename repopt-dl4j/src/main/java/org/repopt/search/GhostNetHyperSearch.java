package org.repopt.search;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.repopt.data.ImageDataset;
import org.repopt.gr.ScalesFile;
import org.repopt.model.GhostNetSpec;
import org.repopt.model.RepOptGhostNet;
import org.repopt.train.TrainResult;

/**
 * Hyper-Search of RepOpt-GhostNet (docs/METHOD.md): trains the family's Hyper-Search model
 * ({@link RepOptGhostNet.Builder#search()}: every ghost module's cheap and fusion scales trainable, starting at
 * {@code sqrt(2 / (num_stage_modules + 1))} and 1) on a search data set with the same SGD recipe as
 * {@link HyperSearch}, then exports the trained scales as a scales file ({@code GhostNetScales}'s form)
 * ({@value HyperSearch#SCALES_FILE} in the run's folder) that the target takes with the RepOptimizer.
 *
 * <p>The architecture is adapted to the search data's input shape and class count; module names and channels stay
 * those of the width, so the file fits the target at any input.
 */
public final class GhostNetHyperSearch extends FamilyHyperSearch<GhostNetSpec, RepOptGhostNet> {

    /**
     * @param target      the architecture whose scales are searched (its width; the input shape and classes come
     *                    from the data)
     * @param momentum    Nesterov momentum in {@code (0, 1)}
     * @param weightDecay L2 weight decay, {@code >= 0}
     */
    public GhostNetHyperSearch(GhostNetSpec target, double momentum, double weightDecay) {
        super(target, momentum, weightDecay);
    }

    /**
     * @param data the search data set
     * @return the Hyper-Search model for the target width at the data's input shape and class count
     */
    @Override
    public RepOptGhostNet modelFor(ImageDataset data) {
        return RepOptGhostNet.builder(target.withInput(data.channels(), data.height(), data.width())
                .withClasses(data.numClasses())).search().dataType(data.options().dataType()).build();
    }

    @Override
    ComputationGraphConfiguration conf(RepOptGhostNet model) {
        return model.conf();
    }

    @Override
    ScalesFile exportScales(RepOptGhostNet model, ComputationGraph net, ImageDataset data, TrainResult training) {
        return model.exportScales(net, SearchRecipe.provenance(null, data, training, model.displayName(),
                "one entry per ghost module in forward order, scales per channel"));
    }
}
