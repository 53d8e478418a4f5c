package org.repopt.nn;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.repopt.backend.OneDnnHelpers;

/**
 * DL4J's oneDNN convolution helper, except that the backward pass of small input maps runs on libnd4j's generic
 * implementation (see {@link EngineSelectingConvolutionLayer}). libnd4j offers no per-op engine choice, so the switch
 * is ND4J's process-wide "platform helpers allowed" flag, turned off for the one backward op through
 * {@link OneDnnHelpers#withoutPlatformHelpers}, the project's single place for such global switches (its comment
 * says what another thread sees meanwhile). A threshold of 0 pixels never touches the flag.
 */
public class EngineSelectingConvHelper extends MKLDNNConvHelper {

    private final int genericBackwardMaxInputPixels;

    /**
     * @param dataType                      the network's data type
     * @param genericBackwardMaxInputPixels input height x width at or below which the backward pass skips oneDNN
     */
    public EngineSelectingConvHelper(DataType dataType, int genericBackwardMaxInputPixels) {
        super(dataType);
        this.genericBackwardMaxInputPixels = genericBackwardMaxInputPixels;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray input, INDArray weights, INDArray bias, INDArray delta,
                                                     int[] kernel, int[] strides, int[] pad, INDArray biasGradView,
                                                     INDArray weightGradView, IActivation afn,
                                                     ConvolutionLayer.AlgoMode mode,
                                                     ConvolutionLayer.BwdFilterAlgo bwdFilterAlgo,
                                                     ConvolutionLayer.BwdDataAlgo bwdDataAlgo,
                                                     ConvolutionMode convolutionMode, int[] dilation,
                                                     CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
        int h = format == CNN2DFormat.NCHW ? 2 : 1;
        long pixels = input.size(h) * input.size(h + 1);
        if (pixels > genericBackwardMaxInputPixels) {
            return super.backpropGradient(input, weights, bias, delta, kernel, strides, pad, biasGradView,
                    weightGradView, afn, mode, bwdFilterAlgo, bwdDataAlgo, convolutionMode, dilation, format,
                    workspaceMgr);
        }
        return OneDnnHelpers.withoutPlatformHelpers(() -> super.backpropGradient(input, weights, bias, delta, kernel,
                strides, pad, biasGradView, weightGradView, afn, mode, bwdFilterAlgo, bwdDataAlgo, convolutionMode,
                dilation, format, workspaceMgr));
    }
}
