package org.nd4j.nativeblas;

import java.lang.reflect.Method;

/**
 * Compatibility bridge for DL4J 1.0.0-M2.1's oneDNN check.
 *
 * <p>{@code org.deeplearning4j.nn.layers.mkldnn.BaseMKLDNNHelper.mklDnnEnabled()} looks up
 * {@code org.nd4j.nativeblas.Nd4jCpu$Environment} by name, but that class moved to
 * {@code org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu$Environment} in M2.1, so every oneDNN layer helper
 * reports itself unsupported and DL4J silently falls back to its slow built-in convolution. This class
 * restores the old name and forwards to the real environment, whose method is now called {@code isUseONEDNN}. It is the only class of this project outside
 * {@code org.repopt}; {@link org.repopt.backend.OneDnnHelpers} explains when it is used.
 */
public final class Nd4jCpu {

    private Nd4jCpu() {
    }

    /** Forwards the two calls DL4J makes to the real native environment of the CPU backend. */
    public static final class Environment {
        private static final String REAL_CLASS = "org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu$Environment";
        private static final Environment INSTANCE = new Environment();

        private Environment() {
        }

        /** @return the single bridge instance, as the real class's {@code getInstance()}. */
        public static Environment getInstance() {
            return INSTANCE;
        }

        /**
         * @return whether the native CPU environment has oneDNN switched on
         * @throws IllegalStateException where the CPU backend's environment cannot be reached
         */
        public boolean isUseMKLDNN() {
            try {
                Class<?> real = Class.forName(REAL_CLASS);
                Object environment = real.getMethod("getInstance").invoke(null);
                Method isUse = real.getMethod("isUseONEDNN");
                return (boolean) isUse.invoke(environment);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("Cannot query oneDNN state through " + REAL_CLASS, e);
            }
        }
    }
}
