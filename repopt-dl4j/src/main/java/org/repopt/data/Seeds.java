package org.repopt.data;

/**
 * Seeds of the per-epoch shuffle and the per-example augmentation, derived by hashing, so that a batch's content
 * depends only on (seed, epoch, example) and never on which thread built it or when.
 */
final class Seeds {

    /** The golden-ratio increment of SplitMix64. */
    private static final long GAMMA = 0x9E3779B97F4A7C15L;

    private Seeds() {
    }

    /** @return the seed of the example order of {@code epoch} */
    static long epoch(long seed, int epoch) {
        return mix(mix(seed) + GAMMA * (epoch + 1L));
    }

    /** @return the seed of the augmentation of example {@code index} (its index in the split) in {@code epoch} */
    static long example(long seed, int epoch, int index) {
        return mix(epoch(seed, epoch) + GAMMA * (index + 1L));
    }

    /** SplitMix64's finalizer (Steele, Lea, Flood 2014): a bijection that spreads every input bit. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
