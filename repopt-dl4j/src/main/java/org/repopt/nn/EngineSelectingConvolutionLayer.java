package org.repopt.nn;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.LayerValidation;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.deeplearning4j.util.ConvolutionUtils;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collection;
import java.util.Objects;

/**
 * A plain DL4J {@link ConvolutionLayer} that picks the faster engine for its backward pass by input size.
 *
 * <p>With oneDNN on, DL4J runs every convolution through oneDNN. For feature maps of a few pixels and many channels
 * (the last stages of a VGG on 32x32 input, e.g. RepOpt-VGG-B1's 15 blocks of 512 channels at 2x2) oneDNN's backward
 * pass is several times slower than libnd4j's own im2col + GEMM path: 49 ms against 18 ms per 512->512 block at 2x2,
 * batch 32, on the 2-core AMD EPYC this project was measured on, while oneDNN wins clearly from 4x4 up and in every
 * forward pass. At or below {@link #getGenericBackwardMaxInputPixels()} input pixels this layer runs its backward pass
 * with libnd4j's platform helpers off; everything else, and the forward pass, stays on oneDNN. The result is the same
 * convolution gradient (to float rounding); parameters, JSON and {@code ModelSerializer} behave as for
 * {@link ConvolutionLayer}.
 */
public class EngineSelectingConvolutionLayer extends ConvolutionLayer {

    private static final long serialVersionUID = 1L;

    /** Input maps of up to 2x2 pixels take the generic backward path (measured, see the class comment). */
    public static final int DEFAULT_GENERIC_BACKWARD_MAX_INPUT_PIXELS = 4;

    private int genericBackwardMaxInputPixels = DEFAULT_GENERIC_BACKWARD_MAX_INPUT_PIXELS;

    /** For JSON deserialization. */
    protected EngineSelectingConvolutionLayer() {
    }

    private EngineSelectingConvolutionLayer(Builder b) {
        super(b);
        this.genericBackwardMaxInputPixels = b.genericBackwardMaxInputPixels;
    }

    /** @return input height x width at or below which the backward pass skips oneDNN */
    public int getGenericBackwardMaxInputPixels() {
        return genericBackwardMaxInputPixels;
    }

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
                                                       Collection<TrainingListener> trainingListeners,
                                                       int layerIndex, INDArray layerParamsView,
                                                       boolean initializeParams, DataType networkDataType) {
        LayerValidation.assertNInNOutSet("EngineSelectingConvolutionLayer", getLayerName(), layerIndex, getNIn(),
                getNOut());
        return LayerWiring.wire(new EngineSelectingConvolution(conf, networkDataType), conf, initializer(), trainingListeners, layerIndex,
                layerParamsView, initializeParams);
    }

    @Override
    public EngineSelectingConvolutionLayer clone() {
        return (EngineSelectingConvolutionLayer) super.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EngineSelectingConvolutionLayer && super.equals(o)
                && genericBackwardMaxInputPixels == ((EngineSelectingConvolutionLayer) o).genericBackwardMaxInputPixels;
    }

    @Override
    protected boolean canEqual(Object other) {
        return other instanceof EngineSelectingConvolutionLayer;
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), genericBackwardMaxInputPixels);
    }

    /** Builds an {@link EngineSelectingConvolutionLayer}: every option of DL4J's conv builder, plus the threshold. */
    public static class Builder extends ConvolutionLayer.Builder {
        private int genericBackwardMaxInputPixels = DEFAULT_GENERIC_BACKWARD_MAX_INPUT_PIXELS;

        /** @param kernelSize kernel height and width */
        public Builder(int... kernelSize) {
            super(kernelSize);
        }

        /**
         * @param pixels input height x width at or below which the backward pass skips oneDNN; 0 keeps oneDNN always
         * @return this builder
         */
        public Builder genericBackwardMaxInputPixels(int pixels) {
            if (pixels < 0) {
                throw new IllegalArgumentException("genericBackwardMaxInputPixels must be >= 0, got " + pixels);
            }
            this.genericBackwardMaxInputPixels = pixels;
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public EngineSelectingConvolutionLayer build() {
            ConvolutionUtils.validateConvolutionModePadding(convolutionMode, padding);
            ConvolutionUtils.validateCnnKernelStridePadding(kernelSize, stride, padding);
            return new EngineSelectingConvolutionLayer(this);
        }
    }
}
