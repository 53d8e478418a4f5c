package org.repopt.nn;

import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.NoParamLayer;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collection;
import java.util.Objects;

/**
 * Simulated (fake) uniform quantization of its input with a constant scale and zero point 0:
 * {@code y = scale * clamp(rint(x / scale), gridMin, gridMax)}. The output stays floating point but only takes the
 * {@code gridMax - gridMin + 1} values of the integer grid, which is what an integer kernel would see; this is how
 * post-training quantization is simulated inside an ordinary DL4J graph.
 *
 * <p>Rounding is to the nearest integer with ties to even ({@code rint}, as PyTorch's {@code torch.round} and
 * NumPy do). The grid is {@linkplain Builder#unsigned8() unsigned 8-bit} {@code [0, 255]} for non-negative input
 * (after a ReLU, where a signed grid would waste its negative half) or {@linkplain Builder#signed8() signed 8-bit}
 * {@code [-127, 127]} (symmetric, so that {@code -x} quantizes to {@code -q(x)}), or any range that contains 0.
 * The backward pass is the straight-through estimator: the gradient passes unchanged where
 * {@code gridMin*scale <= x <= gridMax*scale} and is zero where the input was clamped. The layer has no
 * parameters; its scale is part of the configuration (and so of the saved model's JSON). Works on input of any
 * rank: it is element-wise.
 */
public class FakeQuantLayer extends NoParamLayer {

    private static final long serialVersionUID = 1L;

    /** Largest integer of the unsigned 8-bit grid {@code [0, 255]}. */
    public static final int UNSIGNED_8_MAX = 255;
    /** Largest integer of the symmetric signed 8-bit grid {@code [-127, 127]} (-128 unused, as symmetric INT8 does). */
    public static final int SIGNED_8_MAX = 127;

    private double scale;
    private int gridMin;
    private int gridMax;

    /** For JSON deserialization. */
    protected FakeQuantLayer() {
    }

    private FakeQuantLayer(Builder b) {
        super(b);
        this.scale = b.scale;
        this.gridMin = b.gridMin;
        this.gridMax = b.gridMax;
        validate(layerName, scale, gridMin, gridMax);
    }

    private static void validate(String name, double scale, int gridMin, int gridMax) {
        if (!(scale > 0) || !Double.isFinite(scale)) {
            throw new IllegalArgumentException("fake-quant layer '" + name + "': scale must be finite and > 0, got "
                    + scale);
        }
        if (gridMin > 0 || gridMax <= 0 || gridMin >= gridMax) {
            throw new IllegalArgumentException("fake-quant layer '" + name + "': integer range [" + gridMin + ", "
                    + gridMax + "] must contain 0 and have gridMin < gridMax");
        }
    }

    /** @return the grid step: one integer step is {@code scale} in the input's units */
    public double getScale() {
        return scale;
    }

    /** @return the smallest integer of the grid */
    public int getGridMin() {
        return gridMin;
    }

    /** @return the largest integer of the grid */
    public int getGridMax() {
        return gridMax;
    }

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
                                                       Collection<TrainingListener> trainingListeners,
                                                       int layerIndex, INDArray layerParamsView,
                                                       boolean initializeParams, DataType networkDataType) {
        // A configuration read from JSON bypasses the builder: check it here, before it runs.
        validate(layerName, scale, gridMin, gridMax);
        return LayerWiring.wire(new FakeQuant(conf, networkDataType), conf, initializer(), trainingListeners, layerIndex,
                layerParamsView, initializeParams);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        if (inputType == null) {
            throw new IllegalStateException("fake-quant layer '" + layerName + "': input type is null");
        }
        return inputType;
    }

    @Override
    public InputPreProcessor getPreProcessorForInputType(InputType inputType) {
        return null;
    }

    @Override
    public LayerMemoryReport getMemoryReport(InputType inputType) {
        return new LayerMemoryReport.Builder(layerName, FakeQuantLayer.class, inputType, inputType)
                .standardMemory(0, 0)
                .workingMemory(0, 0, 0, inputType.arrayElementsPerExample())
                .cacheMemory(MemoryReport.CACHE_MODE_ALL_ZEROS, MemoryReport.CACHE_MODE_ALL_ZEROS)
                .build();
    }

    @Override
    public FakeQuantLayer clone() {
        return (FakeQuantLayer) super.clone();
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof FakeQuantLayer) || !super.equals(o)) {
            return false;
        }
        FakeQuantLayer that = (FakeQuantLayer) o;
        return Double.compare(scale, that.scale) == 0 && gridMin == that.gridMin && gridMax == that.gridMax;
    }

    @Override
    protected boolean canEqual(Object other) {
        return other instanceof FakeQuantLayer;
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), scale, gridMin, gridMax);
    }

    @Override
    public String toString() {
        return "FakeQuantLayer{" + layerName + ", scale=" + scale + ", range=[" + gridMin + ", " + gridMax + "]}";
    }

    /** Builds a {@link FakeQuantLayer}; the scale and the integer range are required. */
    public static class Builder extends org.deeplearning4j.nn.conf.layers.Layer.Builder<Builder> {
        private double scale;
        private int gridMin;
        private int gridMax;
        private boolean rangeSet;

        /**
         * @param s the grid step; finite and {@code > 0}
         * @return this builder
         */
        public Builder scale(double s) {
            this.scale = s;
            return this;
        }

        /**
         * @param min smallest integer of the grid ({@code <= 0})
         * @param max largest integer of the grid ({@code > 0}, {@code > min})
         * @return this builder
         */
        public Builder range(int min, int max) {
            this.gridMin = min;
            this.gridMax = max;
            this.rangeSet = true;
            return this;
        }

        /**
         * Sets the unsigned 8-bit grid {@code [0, 255]}, for non-negative input.
         *
         * @return this builder
         */
        public Builder unsigned8() {
            return range(0, UNSIGNED_8_MAX);
        }

        /**
         * Sets the symmetric signed 8-bit grid {@code [-127, 127]}.
         *
         * @return this builder
         */
        public Builder signed8() {
            return range(-SIGNED_8_MAX, SIGNED_8_MAX);
        }

        @Override
        @SuppressWarnings("unchecked")
        public FakeQuantLayer build() {
            if (!rangeSet) {
                throw new IllegalStateException("fake-quant layer '" + layerName + "': no integer range set; call "
                        + "unsigned8(), signed8() or range(min, max)");
            }
            return new FakeQuantLayer(this);
        }
    }
}
