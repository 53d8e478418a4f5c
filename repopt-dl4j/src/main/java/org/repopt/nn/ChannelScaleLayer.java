package org.repopt.nn;

import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.learning.regularization.Regularization;

import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * Multiplies every channel of its input by its own scale: {@code y[n,c,h,w] = s[c] * x[n,c,h,w]}. This is the
 * per-output-channel scale of a CSLA block ({@code scale_conv}, {@code scale_1x1}, {@code scale_identity}),
 * which DL4J does not have. It applies no activation function (its activation is identity; others are refused).
 *
 * <p>The scales are one parameter, {@value ChannelScaleParamInitializer#SCALE_KEY}, of shape {@code [1, C]},
 * initialized to {@link Builder#initialScale} or per channel to {@link Builder#initialScales}. A
 * {@linkplain Builder#trainable trainable} layer learns its scales with the layer's updater and, unless
 * {@linkplain Builder#decayed exempt}, its regularization (weight decay); a constant one keeps them: its updater is
 * {@link NoOp}, it has no regularization and it reports a zero gradient. The Hyper-Search model exempts its branch
 * scales from weight decay and decays its identity scale, as the reference code does (docs/METHOD.md#hyper-search-recipe). Works on CNN input (NCHW or NHWC, by {@link Builder#dataFormat}) and on feed-forward
 * input; the output has the input's type.
 */
public class ChannelScaleLayer extends FeedForwardLayer {

    private static final long serialVersionUID = 1L;

    private double initialScale = 1.0;
    private double[] initialScales;
    private boolean trainable = true;
    private boolean decayed = true;
    private CNN2DFormat dataFormat = CNN2DFormat.NCHW;

    /** For JSON deserialization. */
    protected ChannelScaleLayer() {
    }

    private ChannelScaleLayer(Builder b) {
        super(b);
        // the layer applies no activation; it reports identity, not the configuration's default (sigmoid), which
        // DL4J's training UI would otherwise show on the layer's page
        if (activationFn != null && !(activationFn instanceof ActivationIdentity)) {
            throw new IllegalArgumentException("layer '" + layerName + "': a channel scale layer applies no "
                    + "activation, got " + activationFn + "; add an ActivationLayer after it instead");
        }
        this.activationFn = new ActivationIdentity();
        this.initialScale = b.initialScale;
        this.initialScales = b.initialScales == null ? null : b.initialScales.clone();
        this.trainable = b.trainable;
        this.decayed = b.decayed;
        this.dataFormat = b.dataFormat;
        if (initialScales != null && nOut > 0 && initialScales.length != nOut) {
            throw new IllegalArgumentException("layer '" + layerName + "': " + initialScales.length
                    + " initial scales for " + nOut + " channels");
        }
    }

    /** @return the scale every channel starts at, where no per-channel values are given */
    public double getInitialScale() {
        return initialScale;
    }

    /** @return per-channel initial scales (a copy), or {@code null} */
    public double[] getInitialScales() {
        return initialScales == null ? null : initialScales.clone();
    }

    /** @return whether the scales are learned */
    public boolean isTrainable() {
        return trainable;
    }

    /** @return whether a trainable layer's regularization (weight decay) applies to its scales */
    public boolean isDecayed() {
        return decayed;
    }

    /** @return where the channel axis of CNN input is */
    public CNN2DFormat getDataFormat() {
        return dataFormat;
    }

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
                                                       Collection<TrainingListener> trainingListeners,
                                                       int layerIndex, INDArray layerParamsView,
                                                       boolean initializeParams, DataType networkDataType) {
        if (nIn != nOut) {
            throw new IllegalStateException("layer '" + layerName + "': a channel scale layer needs nIn == nOut, got "
                    + nIn + " and " + nOut);
        }
        return LayerWiring.wire(new ChannelScale(conf, networkDataType), conf, initializer(), trainingListeners, layerIndex,
                layerParamsView, initializeParams);
    }

    @Override
    public ParamInitializer initializer() {
        return ChannelScaleParamInitializer.getInstance();
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        channelsOf(inputType);
        return inputType;
    }

    @Override
    public void setNIn(InputType inputType, boolean override) {
        if (nIn <= 0 || override) {
            long c = channelsOf(inputType);
            this.nIn = c;
            this.nOut = c;
        }
        if (inputType instanceof InputType.InputTypeConvolutional) {
            this.dataFormat = ((InputType.InputTypeConvolutional) inputType).getFormat();
        }
    }

    private long channelsOf(InputType inputType) {
        if (inputType instanceof InputType.InputTypeConvolutional) {
            return ((InputType.InputTypeConvolutional) inputType).getChannels();
        }
        if (inputType instanceof InputType.InputTypeFeedForward) {
            return ((InputType.InputTypeFeedForward) inputType).getSize();
        }
        throw new IllegalStateException("layer '" + layerName + "': expected CNN or feed-forward input, got "
                + inputType);
    }

    @Override
    public InputPreProcessor getPreProcessorForInputType(InputType inputType) {
        return null;
    }

    @Override
    public List<Regularization> getRegularizationByParam(String paramName) {
        return trainable && decayed ? super.getRegularizationByParam(paramName) : null;
    }

    @Override
    public IUpdater getUpdaterByParam(String paramName) {
        return trainable ? super.getUpdaterByParam(paramName) : new NoOp();
    }

    @Override
    public boolean isPretrainParam(String paramName) {
        return false;
    }

    @Override
    public LayerMemoryReport getMemoryReport(InputType inputType) {
        long numParams = initializer().numParams(this);
        IUpdater updater = getIUpdater() == null ? new NoOp() : getIUpdater();
        return new LayerMemoryReport.Builder(layerName, ChannelScaleLayer.class, inputType, inputType)
                .standardMemory(numParams, trainable ? updater.stateSize(numParams) : 0)
                .workingMemory(0, 0, 0, inputType.arrayElementsPerExample())
                .cacheMemory(MemoryReport.CACHE_MODE_ALL_ZEROS, MemoryReport.CACHE_MODE_ALL_ZEROS)
                .build();
    }

    @Override
    public ChannelScaleLayer clone() {
        ChannelScaleLayer c = (ChannelScaleLayer) super.clone();
        c.initialScales = initialScales == null ? null : initialScales.clone();
        return c;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof ChannelScaleLayer) || !super.equals(o)) {
            return false;
        }
        ChannelScaleLayer that = (ChannelScaleLayer) o;
        return Double.compare(initialScale, that.initialScale) == 0 && trainable == that.trainable
                && decayed == that.decayed && Arrays.equals(initialScales, that.initialScales) && dataFormat == that.dataFormat;
    }

    @Override
    protected boolean canEqual(Object other) {
        return other instanceof ChannelScaleLayer;
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), initialScale, Arrays.hashCode(initialScales), trainable, decayed,
                dataFormat);
    }

    @Override
    public String toString() {
        return "ChannelScaleLayer{" + layerName + ", channels=" + nOut + ", trainable=" + trainable
                + (trainable && !decayed ? ", no weight decay" : "") + "}";
    }

    /** Builds a {@link ChannelScaleLayer}; {@link #channels} may be left to the graph's input types. */
    public static class Builder extends FeedForwardLayer.Builder<Builder> {
        private double initialScale = 1.0;
        private double[] initialScales;
        private boolean trainable = true;
        private boolean decayed = true;
        private CNN2DFormat dataFormat = CNN2DFormat.NCHW;

        /** @param c channel count (sets nIn and nOut) */
        public Builder channels(long c) {
            nIn(c);
            return nOut(c);
        }

        /** @param s the scale of every channel at initialization; must be finite */
        public Builder initialScale(double s) {
            if (!Double.isFinite(s)) {
                throw new IllegalArgumentException("initialScale must be finite, got " + s);
            }
            this.initialScale = s;
            return this;
        }

        /** @param s per-channel initial scales; finite, one per channel */
        public Builder initialScales(double... s) {
            for (int c = 0; c < s.length; c++) {
                if (!Double.isFinite(s[c])) {
                    throw new IllegalArgumentException("initialScales[" + c + "] must be finite, got " + s[c]);
                }
            }
            this.initialScales = s.clone();
            return this;
        }

        /** @param t whether the scales are learned (default) or constant */
        public Builder trainable(boolean t) {
            this.trainable = t;
            return this;
        }

        /**
         * @param d whether the layer's regularization (weight decay) applies to trainable scales (default); a
         *          constant layer is never regularized
         */
        public Builder decayed(boolean d) {
            this.decayed = d;
            return this;
        }

        /** @param f channel axis of CNN input (default NCHW; set from the input type when known) */
        public Builder dataFormat(CNN2DFormat f) {
            this.dataFormat = Objects.requireNonNull(f, "dataFormat");
            return this;
        }

        @Override
        @SuppressWarnings("unchecked")
        public ChannelScaleLayer build() {
            return new ChannelScaleLayer(this);
        }
    }
}
