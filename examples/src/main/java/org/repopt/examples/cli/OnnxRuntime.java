package org.repopt.examples.cli;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Optional;
import java.util.ServiceLoader;

/**
 * The command line's door to ONNX Runtime for Java ({@code com.microsoft.onnxruntime:onnxruntime}, 93 MB), an optional
 * part of the build: the {@code onnx} Maven profile adds the {@code repopt-onnx-runtime} module, whose implementation
 * is listed in its {@code META-INF/services}. Without it, {@link #require} says how to build it.
 */
public interface OnnxRuntime {

    /** How to get ONNX Runtime into the build, for messages. */
    String HOW_TO_ENABLE = "ONNX Runtime for Java, an optional part of the build (the Maven profile 'onnx', 93 MB "
            + "more to download) that this build lacks; ./repopt adds it by itself for quantize --onnx, or build it "
            + "with: REPOPT_MAVEN_ARGS=-Ponnx ./repopt ... (mvn -Ponnx package)";

    /**
     * @param model   an ONNX model's bytes, one float input {@code [batch, ...]}, one float output
     * @param threads intra-op threads ({@code 0}: ONNX Runtime's default, one per core)
     * @return a session on ONNX Runtime's CPU provider with every graph optimization on
     * @throws Exception when ONNX Runtime refuses the model
     */
    Model load(byte[] model, int threads) throws Exception;

    /** A loaded model. */
    interface Model extends AutoCloseable {

        /**
         * @param x a batch (any floating type; sent as float)
         * @return the model's output for it, float
         */
        INDArray output(INDArray x);

        @Override
        void close();
    }

    /** @return ONNX Runtime, when the build contains it */
    static Optional<OnnxRuntime> find() {
        return ServiceLoader.load(OnnxRuntime.class).findFirst();
    }

    /**
     * @param option the option that needs it, for the message
     * @return ONNX Runtime
     * @throws IllegalStateException when the build does not contain it, saying how to build it
     */
    static OnnxRuntime require(String option) {
        return find().orElseThrow(() -> new IllegalStateException(option + " needs " + HOW_TO_ENABLE));
    }
}
