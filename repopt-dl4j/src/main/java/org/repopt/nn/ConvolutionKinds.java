package org.repopt.nn;

import org.deeplearning4j.nn.conf.layers.Convolution1DLayer;
import org.deeplearning4j.nn.conf.layers.Convolution3D;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Deconvolution2D;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;

/** Which DL4J layer configurations are ordinary dense 2D convolutions. */
public final class ConvolutionKinds {

    private ConvolutionKinds() {
    }

    /**
     * @param layer a layer configuration
     * @return whether it is DL4J's {@link ConvolutionLayer} or a subclass that only changes how it computes (such as
     * {@link EngineSelectingConvolutionLayer}); DL4J's 1D, 3D, depthwise, separable and transposed convolutions extend
     * {@link ConvolutionLayer} too, and are not, nor is {@link ConvBnReluLayer}, which also normalizes and rectifies
     * its output
     */
    public static boolean isPlain2D(Layer layer) {
        return layer instanceof ConvolutionLayer && !(layer instanceof Convolution1DLayer)
                && !(layer instanceof Convolution3D) && !(layer instanceof DepthwiseConvolution2D)
                && !(layer instanceof SeparableConvolution2D) && !(layer instanceof Deconvolution2D)
                && !(layer instanceof ConvBnReluLayer);
    }
}
