package org.repopt.quant;

/** How many scales a symmetric INT8 weight tensor gets. */
public enum Granularity {
    /** One scale for the whole tensor: {@code scale = max|W| / 127}. */
    PER_TENSOR,
    /**
     * One scale per output channel: {@code scale[o] = max|W[o,...]| / 127}. Never coarser than per-tensor, since
     * every {@code scale[o]} is at most the per-tensor scale.
     */
    PER_CHANNEL
}
