package org.repopt.model;

/**
 * The paper's RepOpt-VGG variants (Ding et al., ICLR 2023, Table 1; docs/METHOD.md#model-family): 3x3 layers per stage
 * and width multipliers {@code a} (stages 1-3) and {@code b} (stage 4); stem {@code min(64, 64a)} channels; every
 * stage starts at stride 2, the stem included. Specs are at ImageNet shape; {@link VggSpec#withInput} and
 * {@link VggSpec#withClasses} adapt them.
 */
public enum Variant {
    /** 51.8M parameters, 11.9G multiply-accumulates (the paper's "FLOPs"). */
    B1(new int[]{4, 6, 16, 1}, 2, 4),
    /** 80.3M parameters, 18.4G multiply-accumulates. */
    B2(new int[]{4, 6, 16, 1}, 2.5, 5),
    /** 76.0M parameters, 21.0G multiply-accumulates. */
    L1(new int[]{8, 14, 24, 1}, 2, 4),
    /** 118.1M parameters, 32.8G multiply-accumulates. */
    L2(new int[]{8, 14, 24, 1}, 2.5, 5);

    private final int[] depths;
    private final double a;
    private final double b;

    Variant(int[] depths, double a, double b) {
        this.depths = depths;
        this.a = a;
        this.b = b;
    }

    /** @return the width multipliers {@code [a, a, a, b]}, as a scales file's {@code width_multiplier} */
    public double[] widthMultiplier() {
        return new double[]{a, a, a, b};
    }

    /** @return the variant at 3x224x224, 1000 classes */
    public VggSpec spec() {
        VggSpec.Builder builder = VggSpec.builder(name()).input(3, 224, 224).classes(1000)
                .stem((int) Math.min(64, 64 * a), 2);
        int[] base = {64, 128, 256};
        for (int s = 0; s < 3; s++) {
            builder.stage(depths[s], (int) (base[s] * a), 2);
        }
        return builder.stage(depths[3], (int) (512 * b), 2).build();
    }

    /**
     * @param name a variant name, any case
     * @return the variant
     * @throws IllegalArgumentException naming the known variants
     */
    public static Variant parse(String name) {
        for (Variant v : values()) {
            if (v.name().equalsIgnoreCase(name)) {
                return v;
            }
        }
        throw new IllegalArgumentException("unknown variant '" + name + "'; known: B1, B2, L1, L2");
    }
}
