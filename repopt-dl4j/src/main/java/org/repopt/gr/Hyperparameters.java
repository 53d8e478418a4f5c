package org.repopt.gr;

/**
 * The valid ranges of the optimizer's hyper-parameters, checked in one place for every builder and updater that takes
 * them (the RepOptimizer, the equivalence check, {@link TorchSgd}, {@link TorchAdam}). Each method returns its argument
 * or throws an {@link IllegalArgumentException} naming the value.
 */
public final class Hyperparameters {

    private Hyperparameters() {
    }

    /** @return {@code lr} when finite and {@code > 0} */
    public static double learningRate(double lr) {
        if (!(lr > 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("learningRate must be finite and > 0, got " + lr);
        }
        return lr;
    }

    /** @return {@code m} when in {@code [0, 1)} */
    public static double momentum(double m) {
        if (!(m >= 0 && m < 1)) {
            throw new IllegalArgumentException("momentum must be in [0, 1), got " + m);
        }
        return m;
    }

    /** @return {@code wd} when finite and {@code >= 0} */
    public static double weightDecay(double wd) {
        if (!(wd >= 0) || Double.isInfinite(wd)) {
            throw new IllegalArgumentException("weightDecay must be finite and >= 0, got " + wd);
        }
        return wd;
    }

    /** Checks Adam's two decay rates, each in {@code [0, 1)}. */
    public static void betas(double b1, double b2) {
        if (!(b1 >= 0 && b1 < 1) || !(b2 >= 0 && b2 < 1)) {
            throw new IllegalArgumentException("beta1 and beta2 must be in [0, 1), got " + b1 + " and " + b2);
        }
    }

    /** @return {@code eps} when finite and {@code > 0} */
    public static double epsilon(double eps) {
        if (!(eps > 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("epsilon must be finite and > 0, got " + eps);
        }
        return eps;
    }
}
