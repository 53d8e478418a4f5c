package org.repopt.nn;

import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parameters of a {@link ConvBnReluLayer}: DL4J's convolution parameters (the kernel, no bias) followed by DL4J's
 * batch-norm parameters, each part laid out and initialized by DL4J's own initializer. A network of these layers
 * draws the same random kernels from the same seed as the network of the three layers they replace.
 */
public final class ConvBnReluParamInitializer implements ParamInitializer {

    private static final ConvBnReluParamInitializer INSTANCE = new ConvBnReluParamInitializer();

    private ConvBnReluParamInitializer() {
    }

    /** @return the instance */
    public static ConvBnReluParamInitializer getInstance() {
        return INSTANCE;
    }

    @Override
    public long numParams(NeuralNetConfiguration conf) {
        return numParams(conf.getLayer());
    }

    @Override
    public long numParams(Layer layer) {
        ConvBnReluLayer l = (ConvBnReluLayer) layer;
        return kernelParams(l) + 4L * l.getNOut();
    }

    /** @return the kernel's size, {@code nOut * nIn * kH * kW} */
    static long kernelParams(ConvBnReluLayer l) {
        return l.getNOut() * l.getNIn() * l.getKernelSize()[0] * l.getKernelSize()[1];
    }

    @Override
    public List<String> paramKeys(Layer layer) {
        List<String> keys = new ArrayList<>();
        keys.add(ConvBnReluLayer.WEIGHT_KEY);
        keys.addAll(BatchNormalizationParamInitializer.getInstance().paramKeys(((ConvBnReluLayer) layer)
                .toBatchNormalization()));
        return keys;
    }

    @Override
    public List<String> weightKeys(Layer layer) {
        return Collections.singletonList(ConvBnReluLayer.WEIGHT_KEY);
    }

    @Override
    public List<String> biasKeys(Layer layer) {
        return Collections.emptyList();
    }

    @Override
    public boolean isWeightParam(Layer layer, String key) {
        return ConvBnReluLayer.WEIGHT_KEY.equals(key);
    }

    @Override
    public boolean isBiasParam(Layer layer, String key) {
        return false;
    }

    @Override
    public Map<String, INDArray> init(NeuralNetConfiguration conf, INDArray paramsView, boolean initializeParams) {
        ConvBnReluLayer l = (ConvBnReluLayer) conf.getLayer();
        INDArray flat = paramsView.reshape(paramsView.length());
        long k = kernelParams(l);
        Map<String, INDArray> out = Collections.synchronizedMap(new LinkedHashMap<>());
        // DL4J's conv initializer takes this layer as it is (a convolution without bias) and registers "W".
        out.putAll(ConvolutionParamInitializer.getInstance().init(conf, flat.get(NDArrayIndex.interval(0, k)),
                initializeParams));
        NeuralNetConfiguration bnConf = batchNormConf(conf, l);
        Map<String, INDArray> bn = BatchNormalizationParamInitializer.getInstance().init(bnConf,
                flat.get(NDArrayIndex.interval(k, flat.length())), initializeParams);
        bn.keySet().forEach(conf::addVariable);
        out.putAll(bn);
        return out;
    }

    @Override
    public Map<String, INDArray> getGradientsFromFlattened(NeuralNetConfiguration conf, INDArray gradientView) {
        ConvBnReluLayer l = (ConvBnReluLayer) conf.getLayer();
        INDArray flat = gradientView.reshape(gradientView.length());
        long k = kernelParams(l);
        Map<String, INDArray> out = new LinkedHashMap<>(ConvolutionParamInitializer.getInstance()
                .getGradientsFromFlattened(conf, flat.get(NDArrayIndex.interval(0, k))));
        out.putAll(BatchNormalizationParamInitializer.getInstance().getGradientsFromFlattened(batchNormConf(conf, l),
                flat.get(NDArrayIndex.interval(k, flat.length()))));
        return out;
    }

    private static NeuralNetConfiguration batchNormConf(NeuralNetConfiguration conf, ConvBnReluLayer l) {
        NeuralNetConfiguration c = conf.clone();
        c.clearVariables();
        c.setLayer(l.toBatchNormalization());
        return c;
    }
}
