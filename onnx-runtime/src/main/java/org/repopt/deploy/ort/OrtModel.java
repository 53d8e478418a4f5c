package org.repopt.deploy.ort;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.repopt.examples.cli.OnnxRuntime;

import java.nio.FloatBuffer;
import java.util.Map;

/**
 * An ONNX model in ONNX Runtime (CPU provider, every graph optimization on: for a QDQ model this is what turns
 * QuantizeLinear/DequantizeLinear pairs around a Conv into an integer QLinearConv), fed and read as ND4J arrays.
 */
public final class OrtModel implements OnnxRuntime.Model {

    private final OrtEnvironment env;
    private final OrtSession session;
    private final String input;

    private OrtModel(OrtEnvironment env, OrtSession session) throws OrtException {
        this.env = env;
        this.session = session;
        if (session.getNumInputs() != 1 || session.getNumOutputs() != 1) {
            session.close();
            throw new IllegalArgumentException("the ONNX model has " + session.getNumInputs() + " inputs and "
                    + session.getNumOutputs() + " outputs; expected one of each");
        }
        this.input = session.getInputNames().iterator().next();
    }

    /**
     * @param model   the ONNX model's bytes
     * @param threads intra-op threads ({@code 0}: ONNX Runtime's default)
     * @return the loaded model
     * @throws OrtException when ONNX Runtime refuses the model (its message names the node)
     */
    public static OrtModel load(byte[] model, int threads) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            if (threads > 0) {
                o.setIntraOpNumThreads(threads);
            }
            return new OrtModel(env, env.createSession(model, o));
        }
    }

    @Override
    public INDArray output(INDArray x) {
        float[] values = x.castTo(DataType.FLOAT).dup('c').data().asFloat();
        try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(values), x.shape());
             OrtSession.Result r = session.run(Map.of(input, t))) {
            OnnxTensor y = (OnnxTensor) r.get(0);
            long[] shape = y.getInfo().getShape();
            FloatBuffer b = y.getFloatBuffer();
            float[] out = new float[b.remaining()];
            b.get(out);
            return Nd4j.create(out, shape, 'c');
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime: " + e.getMessage(), e);
        }
    }

    /** The command line's {@link OnnxRuntime}, found through META-INF/services. */
    public static final class Provider implements OnnxRuntime {
        @Override
        public OnnxRuntime.Model load(byte[] model, int threads) throws OrtException {
            return OrtModel.load(model, threads);
        }
    }
}
