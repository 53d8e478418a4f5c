package org.repopt.nn;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The running layer of an {@link EngineSelectingConvolutionLayer}: DL4J's convolution layer whose oneDNN helper is
 * replaced by an {@link EngineSelectingConvHelper}.
 */
public class EngineSelectingConvolution extends ConvolutionLayer {

    private static final long serialVersionUID = 1L;

    /**
     * @param conf     the layer's configuration
     * @param dataType the network's data type
     */
    public EngineSelectingConvolution(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
        if (helper != null && helper.getClass() == MKLDNNConvHelper.class) {
            helper = new EngineSelectingConvHelper(dataType,
                    ((EngineSelectingConvolutionLayer) conf.getLayer()).getGenericBackwardMaxInputPixels());
        }
    }
}
