package org.repopt.quant;

/** Which 8-bit grid the activation quantizers use for non-negative activations (ReLU outputs, pooled features). */
public enum ActivationGrid {
    /**
     * Unsigned {@code [0, 255]} for non-negative activations, signed {@code [-127, 127]} only for a network input
     * that can be negative. Uses all 256 codes on a ReLU output, so the step is half that of a signed grid; this is
     * what PyTorch's default static quantization ends up with ({@code quint8} activations whose observed minimum
     * after a ReLU is 0).
     */
    UNSIGNED_AFTER_RELU,
    /**
     * Symmetric signed {@code [-127, 127]} everywhere, as TensorRT's INT8 and NVIDIA's pytorch-quantization do: on a
     * ReLU output half the codes are never used, so the step is twice as coarse.
     */
    SIGNED
}
