package org.repopt.nn;

import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The single parameter of a {@link ChannelScaleLayer}: its scales, {@code [1, C]}. */
public final class ChannelScaleParamInitializer implements ParamInitializer {

    /** The parameter key of the scales. */
    public static final String SCALE_KEY = "scale";

    private static final ChannelScaleParamInitializer INSTANCE = new ChannelScaleParamInitializer();

    private ChannelScaleParamInitializer() {
    }

    /** @return the shared instance */
    public static ChannelScaleParamInitializer getInstance() {
        return INSTANCE;
    }

    @Override
    public long numParams(NeuralNetConfiguration conf) {
        return numParams(conf.getLayer());
    }

    @Override
    public long numParams(Layer layer) {
        return ((ChannelScaleLayer) layer).getNOut();
    }

    @Override
    public List<String> paramKeys(Layer layer) {
        return Collections.singletonList(SCALE_KEY);
    }

    @Override
    public List<String> weightKeys(Layer layer) {
        return Collections.singletonList(SCALE_KEY);
    }

    @Override
    public List<String> biasKeys(Layer layer) {
        return Collections.emptyList();
    }

    @Override
    public boolean isWeightParam(Layer layer, String key) {
        return SCALE_KEY.equals(key);
    }

    @Override
    public boolean isBiasParam(Layer layer, String key) {
        return false;
    }

    @Override
    public Map<String, INDArray> init(NeuralNetConfiguration conf, INDArray paramsView, boolean initializeParams) {
        ChannelScaleLayer layer = (ChannelScaleLayer) conf.getLayer();
        long c = layer.getNOut();
        if (paramsView.length() != c) {
            throw new IllegalStateException("layer '" + layer.getLayerName() + "': expected " + c
                    + " parameters, got a view of " + paramsView.length());
        }
        INDArray scale = paramsView.reshape('c', 1, c);
        if (initializeParams) {
            double[] init = layer.getInitialScales();
            if (init == null) {
                scale.assign(layer.getInitialScale());
            } else if (init.length != c) {
                throw new IllegalStateException("layer '" + layer.getLayerName() + "': " + init.length
                        + " initial scales for " + c + " channels");
            } else {
                for (int i = 0; i < c; i++) {
                    scale.putScalar(0, i, init[i]);
                }
            }
        }
        conf.addVariable(SCALE_KEY);
        Map<String, INDArray> out = new LinkedHashMap<>();
        out.put(SCALE_KEY, scale);
        return Collections.synchronizedMap(out);
    }

    @Override
    public Map<String, INDArray> getGradientsFromFlattened(NeuralNetConfiguration conf, INDArray gradientView) {
        long c = ((ChannelScaleLayer) conf.getLayer()).getNOut();
        Map<String, INDArray> out = new LinkedHashMap<>();
        out.put(SCALE_KEY, gradientView.reshape('c', 1, c));
        return out;
    }
}
