package org.repopt.train;

import java.util.Locale;
import java.util.OptionalDouble;

/**
 * Test-split accuracy as fractions in {@code [0, 1]}.
 *
 * @param top1 the fraction of examples whose most probable class is the label
 * @param top5 the fraction whose label is among the 5 most probable classes; present only where it was evaluated
 *             (data sets with more than 10 classes, {@link TrainConfig#top5()} on)
 */
public record Accuracy(double top1, OptionalDouble top5) {

    /**
     * @throws IllegalArgumentException when a fraction is outside {@code [0, 1]}
     */
    public Accuracy {
        check("top1", top1);
        if (top5 == null) {
            throw new IllegalArgumentException("top5 must be OptionalDouble.empty() when not evaluated, not null");
        }
        if (top5.isPresent()) {
            check("top5", top5.getAsDouble());
        }
    }

    private static void check(String name, double v) {
        if (!(v >= 0 && v <= 1)) {
            throw new IllegalArgumentException("accuracy " + name + " must be a fraction in [0, 1], got " + v);
        }
    }

    /** @return e.g. {@code top-1 91.23%} or {@code top-1 78.47%, top-5 94.10%} */
    @Override
    public String toString() {
        String s = String.format(Locale.ROOT, "top-1 %.2f%%", 100 * top1);
        return top5.isPresent() ? s + String.format(Locale.ROOT, ", top-5 %.2f%%", 100 * top5.getAsDouble())
                : s;
    }
}
