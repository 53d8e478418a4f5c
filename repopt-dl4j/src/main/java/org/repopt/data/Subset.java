package org.repopt.data;

import java.util.Arrays;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Which training examples a data set uses: all of them, the first {@code n} in file order, or {@code n} drawn at
 * random with a seed (the same {@code n} examples for the same seed, kept in file order). Lets a demo search or
 * train on part of the data; the test split is never subset. An immutable value.
 */
public final class Subset {

    /** How the examples are chosen. */
    public enum Kind {
        /** Every training example. */
        ALL,
        /** The first {@code n} training examples in file order. */
        FIRST,
        /** {@code n} training examples drawn without replacement by a seeded shuffle. */
        RANDOM
    }

    private static final Subset ALL = new Subset(Kind.ALL, 0, 0L);

    private final Kind kind;
    private final int size;
    private final long seed;

    private Subset(Kind kind, int size, long seed) {
        this.kind = kind;
        this.size = size;
        this.seed = seed;
    }

    /** @return every training example */
    public static Subset all() {
        return ALL;
    }

    /**
     * @param n how many examples, at least 1
     * @return the first {@code n} training examples in file order
     * @throws IllegalArgumentException if {@code n < 1}
     */
    public static Subset first(int n) {
        return new Subset(Kind.FIRST, positive(n), 0L);
    }

    /**
     * @param n    how many examples, at least 1
     * @param seed seed of the draw
     * @return {@code n} training examples drawn at random without replacement, in file order
     * @throws IllegalArgumentException if {@code n < 1}
     */
    public static Subset random(int n, long seed) {
        return new Subset(Kind.RANDOM, positive(n), seed);
    }

    private static int positive(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("subset size " + n + ": expected at least 1 example");
        }
        return n;
    }

    /** @return how the examples are chosen */
    public Kind kind() {
        return kind;
    }

    /**
     * @param available the number of training examples of the data set
     * @return how many examples this subset selects from {@code available}
     */
    public int size(int available) {
        return kind == Kind.ALL ? available : size;
    }

    /**
     * The selected indices, ascending.
     *
     * @param available the number of training examples
     * @param what      the data set, named in the error
     * @return indices into the training split, ascending, without repeats
     * @throws IllegalArgumentException if the subset asks for more examples than {@code available}
     */
    int[] select(int available, String what) {
        if (kind != Kind.ALL && size > available) {
            throw new IllegalArgumentException(what + ": subset of " + size + " training examples requested, "
                    + "the training split has only " + available);
        }
        int[] all = new int[available];
        for (int i = 0; i < available; i++) {
            all[i] = i;
        }
        switch (kind) {
            case ALL:
                return all;
            case FIRST:
                return Arrays.copyOf(all, size);
            default:
                // A partial Fisher-Yates shuffle draws `size` distinct indices; sorting keeps file order.
                SplittableRandom random = new SplittableRandom(seed);
                for (int i = 0; i < size; i++) {
                    int j = i + random.nextInt(available - i);
                    int t = all[i];
                    all[i] = all[j];
                    all[j] = t;
                }
                int[] chosen = Arrays.copyOf(all, size);
                Arrays.sort(chosen);
                return chosen;
        }
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Subset)) {
            return false;
        }
        Subset s = (Subset) o;
        return kind == s.kind && size == s.size && seed == s.seed;
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, size, seed);
    }

    @Override
    public String toString() {
        switch (kind) {
            case ALL:
                return "all";
            case FIRST:
                return "first " + size;
            default:
                return "random " + size + " (seed " + seed + ")";
        }
    }
}
