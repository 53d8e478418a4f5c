package org.repopt.nn;

import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.layers.AbstractLayer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collection;

/** What every layer configuration's {@code instantiate} does once it has created its running layer. */
final class LayerWiring {

    private LayerWiring() {
    }

    /**
     * Attaches listeners, index, parameter view and initialized parameters to a new running layer, as DL4J's own
     * layer configurations do.
     *
     * @return {@code layer}
     */
    static <L extends AbstractLayer<?>> L wire(L layer, NeuralNetConfiguration conf, ParamInitializer initializer,
                                              Collection<TrainingListener> listeners, int index, INDArray paramsView,
                                              boolean initializeParams) {
        layer.setListeners(listeners);
        layer.setIndex(index);
        layer.setParamsViewArray(paramsView);
        layer.setParamTable(initializer.init(conf, paramsView, initializeParams));
        layer.setConf(conf);
        return layer;
    }
}
