package org.repopt.backend;

import org.nd4j.linalg.factory.Nd4j;

/**
 * Seeds as ND4J's random generator needs them, and the project's one place that re-seeds that generator.
 *
 * <p>ND4J's native generator takes seed 0 to mean "no seed" and seeds itself from the clock, and DL4J hands a
 * configuration's seed to it unchanged at {@code init()}: a network configured with {@code seed(0)} gets different
 * weights on every {@code init()}. So every seed this project passes to ND4J or DL4J goes through
 * {@link #nativeSeed}: 0 becomes {@link #SEED_FOR_ZERO}, every other seed stays itself (so results under
 * non-zero seeds are unchanged). The price is that the seeds 0 and {@value #SEED_FOR_ZERO} give the same numbers.
 *
 * <p>ND4J's generator is process-global (one per thread); DL4J's layers (dropout, weight noise) and weight
 * initialization draw from it and cannot be given a generator of their own. The library re-seeds it in two places,
 * both through {@link #reseed}: the {@code Trainer} at the start of every epoch (so that a resumed run draws the numbers
 * an uninterrupted one would) and the Rule of Initialization ({@code Reinit}), which draws its fresh 1x1 kernels on a
 * worker thread of its own and re-seeds only that thread's generator, never the caller's. Everything else that is random
 * (data order, augmentation) uses its own {@code java.util.Random} or hash of the seed and never touches ND4J's.
 */
public final class Nd4jRandom {

    /** The native seed that seed 0 stands for: the 64-bit golden ratio (SplitMix64's increment). */
    public static final long SEED_FOR_ZERO = 0x9E3779B97F4A7C15L;

    private Nd4jRandom() {
    }

    /**
     * @param seed any seed, 0 included
     * @return the seed to give ND4J or a DL4J configuration: {@code seed}, or {@link #SEED_FOR_ZERO} for 0
     */
    public static long nativeSeed(long seed) {
        return seed == 0 ? SEED_FOR_ZERO : seed;
    }

    /**
     * Re-seeds the calling thread's ND4J generator.
     *
     * @param seed any seed, 0 included (mapped by {@link #nativeSeed})
     */
    public static void reseed(long seed) {
        Nd4j.getRandom().setSeed(nativeSeed(seed));
    }
}
