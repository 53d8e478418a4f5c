package org.repopt.model;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.repopt.nn.ParamValues;

import java.util.Map;

/**
 * A trained BatchNorm layer at inference, as the per-channel affine map it is:
 * {@code y = scale[c] * x + shift[c]} with {@code scale = gamma / sqrt(var + eps)} and
 * {@code shift = beta - mean * scale}. Handles both of DL4J's variance encodings (variance, or {@code log10} of the
 * standard deviation). The basis of RepVGG's fusion and of BN folding before quantization.
 *
 * @param scale per-channel multiplier
 * @param shift per-channel offset
 */
public record BatchNormAffine(double[] scale, double[] shift) {

    /**
     * @param layer a BatchNormalization layer of an initialized network
     * @return its inference-time affine map
     * @throws IllegalArgumentException where {@code layer} is not a BatchNormalization layer
     */
    public static BatchNormAffine of(Layer layer) {
        if (!(layer.conf().getLayer() instanceof BatchNormalization)) {
            throw new IllegalArgumentException("layer '" + layer.conf().getLayer().getLayerName()
                    + "' is not a BatchNormalization layer but " + layer.conf().getLayer().getClass().getSimpleName());
        }
        BatchNormalization conf = (BatchNormalization) layer.conf().getLayer();
        Map<String, INDArray> p = layer.paramTable();
        double[] mean = ParamValues.of(p.get(BatchNormalizationParamInitializer.GLOBAL_MEAN));
        double[] var;
        if (p.containsKey(BatchNormalizationParamInitializer.GLOBAL_LOG_STD)) {
            var = ParamValues.of(p.get(BatchNormalizationParamInitializer.GLOBAL_LOG_STD));
            for (int c = 0; c < var.length; c++) {
                double std = Math.pow(10.0, var[c]);
                var[c] = std * std;
            }
        } else {
            var = ParamValues.of(p.get(BatchNormalizationParamInitializer.GLOBAL_VAR));
        }
        int n = mean.length;
        double[] gamma = p.containsKey(BatchNormalizationParamInitializer.GAMMA)
                ? ParamValues.of(p.get(BatchNormalizationParamInitializer.GAMMA)) : filled(n, conf.getGamma());
        double[] beta = p.containsKey(BatchNormalizationParamInitializer.BETA)
                ? ParamValues.of(p.get(BatchNormalizationParamInitializer.BETA)) : filled(n, conf.getBeta());
        double[] scale = new double[n];
        double[] shift = new double[n];
        for (int c = 0; c < n; c++) {
            scale[c] = gamma[c] / Math.sqrt(var[c] + conf.getEps());
            shift[c] = beta[c] - mean[c] * scale[c];
        }
        return new BatchNormAffine(scale, shift);
    }

    /** @return the number of channels */
    public int channels() {
        return scale.length;
    }

    private static double[] filled(int n, double v) {
        double[] out = new double[n];
        java.util.Arrays.fill(out, v);
        return out;
    }
}
