package org.repopt.model;

/**
 * One stage of a VGG-style network: {@code depth} 3x3 blocks of {@code width} output channels; the first block has
 * stride {@code stride}, the others stride 1.
 *
 * @param depth  blocks in the stage, {@code >= 1}
 * @param width  output channels of every block, {@code >= 1}
 * @param stride stride of the first block, 1 or 2
 */
public record Stage(int depth, int width, int stride) {

    /** Validates the stage. */
    public Stage {
        if (depth < 1) {
            throw new IllegalArgumentException("stage depth must be >= 1, got " + depth);
        }
        if (width < 1) {
            throw new IllegalArgumentException("stage width must be >= 1, got " + width);
        }
        if (stride != 1 && stride != 2) {
            throw new IllegalArgumentException("stage stride must be 1 or 2, got " + stride);
        }
    }
}
