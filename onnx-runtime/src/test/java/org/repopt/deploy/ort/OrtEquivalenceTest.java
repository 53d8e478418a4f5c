package org.repopt.deploy.ort;

import onnx.Onnx;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.adapter.SingletonDataSetIterator;
import org.repopt.deploy.DeployModel;
import org.repopt.deploy.TrainedFamilies;
import org.repopt.deploy.onnx.OnnxExport;
import org.repopt.quant.ActivationGrid;
import org.repopt.quant.Calibrator;
import org.repopt.quant.FakeQuantization;
import org.repopt.quant.Granularity;
import org.repopt.quant.QuantPoint;
import org.repopt.quant.RangeEstimator;
import org.repopt.testing.TinySpecs;

import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ONNX Runtime computes what DL4J computes: the FP32 export of every family, and the INT8 QDQ export. */
class OrtEquivalenceTest {

    @Test
    void theFp32ExportOfEveryFamilyEqualsDl4jOn256Images() throws Exception {
        for (Map.Entry<String, Supplier<TrainedFamilies.Trained>> e : TrainedFamilies.all().entrySet()) {
            TrainedFamilies.Trained t = e.getValue().get();
            assertEquals(256, t.x().size(0));
            ComputationGraph deploy = DeployModel.of(t.net(), t.input());
            byte[] onnx = OnnxExport.fp32(deploy, input(t.input()), Map.of()).toByteArray();
            INDArray expected = t.net().outputSingle(false, t.x());
            try (OrtModel m = OrtModel.load(onnx, 1)) {
                assertClose(e.getKey(), expected, m.output(t.x()), 1e-4);
            }
        }
    }

    @Test
    void theInt8ExportComputesTheSimulatedInt8Network() throws Exception {
        for (Granularity granularity : Granularity.values()) {
            TrainedFamilies.Trained t = TrainedFamilies.all().get("RepOpt-VGG").get();
            ComputationGraph deploy = DeployModel.of(t.net());
            var calibration = new SingletonDataSetIterator(TinySpecs.batch(TinySpecs.tiny(), 64, 5, DataType.FLOAT));
            List<QuantPoint> points = Calibrator.calibrate(deploy, calibration, 1, new RangeEstimator.MinMax(),
                    ActivationGrid.UNSIGNED_AFTER_RELU);
            Onnx.ModelProto int8 = OnnxExport.int8(deploy, input(t.input()),
                    new OnnxExport.Int8Plan(points, granularity), Map.of());
            INDArray simulated = FakeQuantization.apply(deploy, points, granularity).outputSingle(false, t.x());
            try (OrtModel m = OrtModel.load(int8.toByteArray(), 1)) {
                INDArray ort = m.output(t.x());
                // the same grid values, but ONNX Runtime requantizes a conv's int32 sums with one float multiplier
                // s_in * s_w / s_out and rounds its bias to int32: a value near a rounding boundary can land one
                // code apart, and the tiny random network amplifies that; so: nearly the same probabilities, and
                // nearly always the same class
                double meanDiff = simulated.sub(ort).norm1Number().doubleValue() / simulated.length();
                long[] a = simulated.argMax(1).toLongVector();
                long[] b = ort.argMax(1).toLongVector();
                int same = 0;
                for (int i = 0; i < a.length; i++) {
                    same += a[i] == b[i] ? 1 : 0;
                }
                assertTrue(meanDiff < 2e-3, granularity + ": probabilities differ by " + meanDiff + " on average");
                assertTrue(same >= 0.97 * a.length, granularity + ": " + same + " of " + a.length + " same classes");
            }
        }
    }

    private static OnnxExport.Input input(InputType type) {
        InputType.InputTypeConvolutional c = (InputType.InputTypeConvolutional) type;
        return new OnnxExport.Input("input", (int) c.getChannels(), (int) c.getHeight(), (int) c.getWidth(),
                "test images");
    }

    private static void assertClose(String what, INDArray expected, INDArray got, double relative) {
        assertArrayEquals(expected.shape(), got.shape(), what);
        double scale = expected.amaxNumber().doubleValue();
        double diff = expected.castTo(DataType.DOUBLE).sub(got.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
        assertTrue(diff <= relative * scale, what + ": ONNX Runtime differs from DL4J by " + diff
                + " (largest output " + scale + ")");
    }
}
