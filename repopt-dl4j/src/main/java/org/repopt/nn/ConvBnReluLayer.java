package org.repopt.nn;

import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.LayerValidation;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.deeplearning4j.util.ConvolutionUtils;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.learning.regularization.Regularization;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * One {@code relu(batchnorm(conv(x)))} block as a single DL4J layer: a convolution without bias, a batch
 * normalization and a ReLU, computed on the CPU backend by oneDNN primitives cached per input shape
 * ({@link ConvBnRelu}), with activations kept in NHWC between consecutive blocks.
 *
 * <p>It is a {@link ConvolutionLayer} whose built-in activation is a batch-normalized ReLU: kernel size, stride,
 * padding, convolution mode, {@code nIn}/{@code nOut}, weight init, updater and the weight regularization list are
 * the convolution's. Parameters, flattened in this order, are exactly those of the three DL4J layers it replaces:
 * the kernel {@value #WEIGHT_KEY} {@code [nOut, nIn, kH, kW]} in c order (no bias), then the batch norm's
 * {@code gamma}, {@code beta} and running statistics {@code mean} and {@code log10stdev} (or {@code var} without
 * {@link #isUseLogStd()}), updated as DL4J's {@link BatchNormalization} updates them. So checkpoints, JSON and
 * {@code ModelSerializer} work as for any layer, the regularization list (for example a Grad Mult hook and L2)
 * applies to the kernel alone and sees exactly its gradient, the batch-norm parameters get the updater but no
 * regularization (as in DL4J's {@code BatchNormalization}) and the running statistics get no update rule.
 *
 * <p>For Gradient Re-parameterization this is a site with a re-parameterizable {@code kH x kW} kernel under key
 * {@value #WEIGHT_KEY}, with {@link #getStride()}, {@link #getPadding()}, {@link #getNIn()} and {@link #getNOut()}
 * of the convolution, and its batch normalization inside the layer.
 *
 * <p>{@link ConvBnReluFusion} builds these layers from {@code conv -> BatchNormalization -> ReLU} triples of an
 * existing graph and turns them back into the triples ({@link #toConvolution()}, {@link #toBatchNormalization()});
 * the names of the two layers it absorbed are kept ({@link #getBatchNormName()}, {@link #getReluName()}).
 */
public class ConvBnReluLayer extends ConvolutionLayer {

    private static final long serialVersionUID = 1L;

    /** The kernel's parameter key, as in DL4J's convolution. */
    public static final String WEIGHT_KEY = ConvolutionParamInitializer.WEIGHT_KEY;
    /** DL4J's and PyTorch's default batch-norm epsilon. */
    public static final double DEFAULT_EPS = 1e-5;
    /** DL4J's default running-average decay (PyTorch's momentum 0.1). */
    public static final double DEFAULT_DECAY = 0.9;

    private double eps = DEFAULT_EPS;
    private double decay = DEFAULT_DECAY;
    private boolean useLogStd = true;
    private boolean inputGradient = true;
    private String batchNormName;
    private String reluName;

    /** For JSON deserialization. */
    protected ConvBnReluLayer() {
    }

    private ConvBnReluLayer(Builder b) {
        super(b);
        this.eps = b.eps;
        this.decay = b.decay;
        this.useLogStd = b.useLogStd;
        this.inputGradient = b.inputGradient;
        this.batchNormName = b.batchNormName;
        this.reluName = b.reluName;
    }

    /** @return batch-norm epsilon */
    public double getEps() {
        return eps;
    }

    /** @return running-average decay of the batch statistics */
    public double getDecay() {
        return decay;
    }

    /** @return whether the running variance is stored as {@code log10(std)} (DL4J's default) */
    public boolean isUseLogStd() {
        return useLogStd;
    }

    /**
     * @return whether the backward pass computes the gradient of the layer's input; off for a layer fed directly by
     * a network input, whose input gradient nobody reads (the backward pass then returns {@code null}, as DL4J's
     * embedding layers do)
     */
    public boolean isInputGradient() {
        return inputGradient;
    }

    /** @return the name of the batch-norm layer this layer absorbed, used when splitting it again */
    public String getBatchNormName() {
        return batchNormName != null ? batchNormName : getLayerName() + "-bn";
    }

    /** @return the name of the ReLU layer this layer absorbed, used when splitting it again */
    public String getReluName() {
        return reluName != null ? reluName : getLayerName() + "-relu";
    }

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
                                                       Collection<TrainingListener> trainingListeners,
                                                       int layerIndex, INDArray layerParamsView,
                                                       boolean initializeParams, DataType networkDataType) {
        LayerValidation.assertNInNOutSet("ConvBnReluLayer", getLayerName(), layerIndex, getNIn(), getNOut());
        return LayerWiring.wire(new ConvBnRelu(conf, networkDataType), conf, initializer(), trainingListeners,
                layerIndex, layerParamsView, initializeParams);
    }

    @Override
    public ParamInitializer initializer() {
        return ConvBnReluParamInitializer.getInstance();
    }

    /** The regularization list applies to the kernel only; batch-norm parameters get none, as in DL4J. */
    @Override
    public List<Regularization> getRegularizationByParam(String paramName) {
        return WEIGHT_KEY.equals(paramName) ? getRegularization() : null;
    }

    /** Running statistics are replaced, not trained: DL4J's batch norm gives them {@link NoOp}. */
    @Override
    public IUpdater getUpdaterByParam(String paramName) {
        return isRunningStatistic(paramName) ? new NoOp() : getIUpdater();
    }

    @Override
    public boolean isPretrainParam(String paramName) {
        return false;
    }

    /** @return whether {@code paramName} is the running mean or variance */
    static boolean isRunningStatistic(String paramName) {
        return BatchNormalizationParamInitializer.GLOBAL_MEAN.equals(paramName)
                || BatchNormalizationParamInitializer.GLOBAL_VAR.equals(paramName)
                || BatchNormalizationParamInitializer.GLOBAL_LOG_STD.equals(paramName);
    }

    /**
     * @return the convolution part as a layer of its own (no bias, identity activation), with this layer's name,
     * updater, weight init and regularization
     */
    public ConvolutionLayer toConvolution() {
        ConvolutionLayer c = new EngineSelectingConvolutionLayer.Builder(getKernelSize())
                .stride(getStride()).padding(getPadding()).dilation(getDilation())
                .convolutionMode(getConvolutionMode()).dataFormat(CNN2DFormat.NCHW).nIn(getNIn()).nOut(getNOut())
                .hasBias(false).activation(Activation.IDENTITY).cudnnAllowFallback(isCudnnAllowFallback()).build();
        c.setLayerName(getLayerName());
        c.setWeightInitFn(getWeightInitFn());
        c.setBiasInit(getBiasInit());
        c.setGainInit(getGainInit());
        c.setCudnnAlgoMode(getCudnnAlgoMode());
        c.setIUpdater(getIUpdater());
        c.setBiasUpdater(getBiasUpdater());
        c.setRegularization(copy(getRegularization()));
        c.setRegularizationBias(copy(getRegularizationBias()));
        c.setGradientNormalization(getGradientNormalization());
        c.setGradientNormalizationThreshold(getGradientNormalizationThreshold());
        c.setWeightNoise(getWeightNoise());
        c.setIDropout(getIDropout());
        c.setConstraints(getConstraints());
        return c;
    }

    /** @return the batch-norm part as a layer of its own, named {@link #getBatchNormName()}, with this updater */
    public BatchNormalization toBatchNormalization() {
        BatchNormalization bn = new BatchNormalization.Builder().nIn(getNOut()).nOut(getNOut()).eps(eps).decay(decay)
                .useLogStd(useLogStd).cudnnAllowFallback(isCudnnAllowFallback()).build();
        bn.setLayerName(getBatchNormName());
        bn.setIUpdater(getIUpdater());
        bn.setGradientNormalization(getGradientNormalization());
        bn.setGradientNormalizationThreshold(getGradientNormalizationThreshold());
        return bn;
    }

    private static List<Regularization> copy(List<Regularization> list) {
        return list == null ? null : new ArrayList<>(list);
    }

    /**
     * @param inputHeight input height
     * @param inputWidth  input width
     * @return {@code {top, left}} zero padding DL4J applies at this input size (the configured padding, or what
     * {@code ConvolutionMode.Same} computes)
     */
    int[] topLeftPadding(int inputHeight, int inputWidth) {
        if (getConvolutionMode() != org.deeplearning4j.nn.conf.ConvolutionMode.Same) {
            return getPadding().clone();
        }
        int[] in = {inputHeight, inputWidth};
        int[] out = {(inputHeight + getStride()[0] - 1) / getStride()[0], (inputWidth + getStride()[1] - 1) / getStride()[1]};
        return ConvolutionUtils.getSameModeTopLeftPadding(out, in, getKernelSize(), getStride(), getDilation());
    }

    @Override
    public ConvBnReluLayer clone() {
        return (ConvBnReluLayer) super.clone();
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof ConvBnReluLayer) || !super.equals(o)) {
            return false;
        }
        ConvBnReluLayer that = (ConvBnReluLayer) o;
        return eps == that.eps && decay == that.decay && useLogStd == that.useLogStd
                && inputGradient == that.inputGradient && Objects.equals(batchNormName, that.batchNormName)
                && Objects.equals(reluName, that.reluName);
    }

    @Override
    protected boolean canEqual(Object other) {
        return other instanceof ConvBnReluLayer;
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), eps, decay, useLogStd, inputGradient, batchNormName, reluName);
    }

    /**
     * Builds a {@link ConvBnReluLayer}: every option of DL4J's convolution builder (the activation is fixed to
     * ReLU, the bias to none, the data format to NCHW), plus the batch norm's.
     */
    public static class Builder extends ConvolutionLayer.Builder {
        private double eps = DEFAULT_EPS;
        private double decay = DEFAULT_DECAY;
        private boolean useLogStd = true;
        private boolean inputGradient = true;
        private String batchNormName;
        private String reluName;

        /** @param kernelSize kernel height and width */
        public Builder(int... kernelSize) {
            super(kernelSize);
            hasBias(false);
            activation(Activation.RELU);
        }

        /** @param eps batch-norm epsilon, {@code > 0} (default {@value ConvBnReluLayer#DEFAULT_EPS}) */
        public Builder eps(double eps) {
            if (!(eps > 0) || Double.isInfinite(eps)) {
                throw new IllegalArgumentException("eps must be finite and > 0, got " + eps);
            }
            this.eps = eps;
            return this;
        }

        /** @param decay running-average decay in {@code [0, 1]} (default {@value ConvBnReluLayer#DEFAULT_DECAY}) */
        public Builder decay(double decay) {
            if (!(decay >= 0 && decay <= 1)) {
                throw new IllegalArgumentException("decay must be in [0, 1], got " + decay);
            }
            this.decay = decay;
            return this;
        }

        /** @param on store the running variance as {@code log10(std)} (DL4J's default) rather than as a variance */
        public Builder useLogStd(boolean on) {
            this.useLogStd = on;
            return this;
        }

        /** @param on compute the input gradient (default); off only for a layer fed by a network input */
        public Builder inputGradient(boolean on) {
            this.inputGradient = on;
            return this;
        }

        /**
         * @param batchNorm the name the batch-norm part takes when the layer is split again
         * @param relu      the name the ReLU part takes when the layer is split again
         */
        public Builder partNames(String batchNorm, String relu) {
            this.batchNormName = Objects.requireNonNull(batchNorm, "batchNorm");
            this.reluName = Objects.requireNonNull(relu, "relu");
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public ConvBnReluLayer build() {
            if (hasBias) {
                throw new IllegalArgumentException("ConvBnReluLayer: a convolution followed by batch norm has no bias");
            }
            if (!(activationFn instanceof ActivationReLU)) {
                throw new IllegalArgumentException("ConvBnReluLayer: the activation is ReLU, got " + activationFn);
            }
            if (dataFormat != CNN2DFormat.NCHW) {
                throw new IllegalArgumentException("ConvBnReluLayer: NCHW data only, got " + dataFormat);
            }
            ConvolutionUtils.validateConvolutionModePadding(convolutionMode, padding);
            ConvolutionUtils.validateCnnKernelStridePadding(kernelSize, stride, padding);
            return new ConvBnReluLayer(this);
        }
    }
}
