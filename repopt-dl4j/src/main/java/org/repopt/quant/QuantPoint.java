package org.repopt.quant;

import org.repopt.nn.FakeQuantLayer;

import java.util.Objects;

/**
 * One calibrated activation quantizer: the output of vertex {@code after} (or the network input) is
 * fake-quantized with {@code scale = range / qMax} on an unsigned ({@code [0, 255]}) or signed ({@code [-127, 127]})
 * 8-bit grid.
 *
 * @param after  the vertex (or network input) whose output is quantized
 * @param signed whether the grid is signed (input that can be negative) or unsigned (non-negative input)
 * @param range  the calibrated clipping range, {@code > 0}
 */
public record QuantPoint(String after, boolean signed, double range) {

    /** Validates the point. */
    public QuantPoint {
        Objects.requireNonNull(after, "after");
        if (!(range > 0) || !Double.isFinite(range)) {
            throw new IllegalArgumentException("quantization point after '" + after
                    + "': range must be finite and > 0, got " + range);
        }
    }

    /** @return the largest integer of the grid: 127 signed, 255 unsigned */
    public int qMax() {
        return signed ? FakeQuantLayer.SIGNED_8_MAX : FakeQuantLayer.UNSIGNED_8_MAX;
    }

    /** @return the grid step, {@code range / qMax} */
    public double scale() {
        return range / qMax();
    }

    /** @return the name of the fake-quant layer inserted for this point */
    public String layerName() {
        return after + "_int8";
    }

    /** @return the fake-quant layer of this point */
    public FakeQuantLayer layer() {
        FakeQuantLayer.Builder b = new FakeQuantLayer.Builder().name(layerName()).scale(scale());
        return (signed ? b.signed8() : b.unsigned8()).build();
    }
}
