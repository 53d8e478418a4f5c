package org.repopt.examples.cli;

import onnx.Onnx;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.repopt.data.ImageDataset;
import org.repopt.deploy.DeployModel;
import org.repopt.deploy.onnx.OnnxExport;
import org.repopt.quant.ActivationGrid;
import org.repopt.quant.Granularity;
import org.repopt.quant.Int8Ptq;
import org.repopt.quant.PtqConfig;
import org.repopt.quant.PtqReport;
import org.repopt.quant.RangeEstimator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code ./repopt quantize}: INT8 post-training quantization of a trained run's deploy model. */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = {"INT8 post-training quantization (simulated) of the deploy model of a ./repopt train run: BN "
                + "folded, symmetric INT8 weights, activations quantized after every ReLU with calibrated ranges.",
                "Prints float and INT8 top-1 on the test split, the drop, and per-layer weight statistics; with --onnx "
                        + "also real INT8: the QDQ ONNX model's top-1 and speed in ONNX Runtime next to FP32's."})
final class QuantizeCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "The run folder of ./repopt train.")
    private Path run;

    @Mixin
    private DataArgs data;

    @Option(names = "--per-channel", description = "One weight scale per output channel (default: one per tensor).")
    private boolean perChannel;

    @Option(names = "--calib-batches", defaultValue = "32", paramLabel = "N",
            description = "Training batches used to calibrate activation ranges (default: ${DEFAULT-VALUE}).")
    private int calibBatches;

    @Option(names = "--minmax", description = "Calibrate activation ranges by their maximum (default: percentile).")
    private boolean minMax;

    @Option(names = "--percentile", defaultValue = "99.99", paramLabel = "P",
            description = "Percentile of |activation| taken as range (default: ${DEFAULT-VALUE}).")
    private double percentile;

    @Option(names = "--signed", description = "Signed INT8 after ReLU too (default: unsigned 0..255 after ReLU).")
    private boolean signed;

    @Option(names = "--batch", defaultValue = "256", paramLabel = "N",
            description = "Batch size of calibration and evaluation (default: ${DEFAULT-VALUE}).")
    private int batch;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "Seed of the calibration batches.")
    private long seed;

    @Option(names = "--onnx", description = {"Also export the deploy model as FP32 and INT8 (QDQ) ONNX and run both in "
            + "ONNX Runtime: top-1 on the test split and inference images/s, next to the simulated figures.",
            "Needs the optional ONNX Runtime part (Maven profile onnx; ./repopt adds it by itself)."})
    private boolean onnx;

    @Option(names = "--onnx-dir", paramLabel = "DIR",
            description = "With --onnx: also keep the two models as DIR/model-fp32.onnx and DIR/model-int8.onnx.")
    private Path onnxDir;

    @Option(names = "--onnx-s8-weights", description = {"With --onnx: INT8 weight codes as int8 (ONNX Runtime's "
            + "faster U8S8 kernels) instead of uint8 + 128 (U8U8).",
            "On x86 CPUs without VNNI, U8S8 sums pairs of products in 16 bits and saturates: the accuracy then "
                    + "falls below the simulation's."})
    private boolean s8Weights;

    @Option(names = "--onnx-threads", defaultValue = "0", paramLabel = "N",
            description = "With --onnx: ONNX Runtime's intra-op threads (default: ${DEFAULT-VALUE}, one per core).")
    private int onnxThreads;

    @Option(names = "--onnx-seconds", defaultValue = "5", paramLabel = "S",
            description = "With --onnx: how long each model's speed is measured (default: ${DEFAULT-VALUE} s).")
    private double onnxSeconds;

    @Override
    public Integer call() throws Exception {
        RunInfo info = RunInfo.read(run);
        if (!info.dataset().equals(data.dataset)) {
            throw new IllegalArgumentException(run + " was trained on " + info.dataset() + ", not on --dataset "
                    + data.dataset);
        }
        if (!onnx && (onnxDir != null || s8Weights)) {
            throw new IllegalArgumentException((onnxDir != null ? "--onnx-dir " + onnxDir : "--onnx-s8-weights")
                    + " needs --onnx");
        }
        OnnxRuntime ort = onnx ? OnnxRuntime.require("quantize --onnx") : null;
        if (onnxDir != null) {
            for (String f : ONNX_FILES) {
                RunInfo.requireNotRunFile(onnxDir.resolve(f));
                DeployModel.requireFolder(onnxDir.resolve(f));
            }
        }
        if (!(onnxSeconds > 0) || onnxThreads < 0) {
            throw new IllegalArgumentException("--onnx-seconds " + onnxSeconds + " and --onnx-threads " + onnxThreads
                    + ": expected a positive time and a thread count >= 0");
        }
        ComputationGraph deploy = info.deployModel(run);
        ImageDataset ds = data.open(0);
        PtqConfig config = PtqConfig.defaults()
                .withWeights(perChannel ? Granularity.PER_CHANNEL : Granularity.PER_TENSOR)
                .withCalibrationBatches(calibBatches)
                .withActivations(minMax ? new RangeEstimator.MinMax() : new RangeEstimator.Percentile(percentile))
                .withGrid(signed ? ActivationGrid.SIGNED : ActivationGrid.UNSIGNED_AFTER_RELU);
        PtqReport report = Int8Ptq.run(deploy, ds.train(batch, seed).epoch(0), ds.test(batch), config);
        System.out.println(info.family().displayName() + "-" + info.variant() + " (" + run + ")");
        System.out.println(report);
        System.out.printf(Locale.ROOT, "float_top1=%.4f int8_top1=%.4f drop_points=%.2f%n", report.floatTop1(),
                report.int8Top1(), report.top1DropPoints());
        if (onnx) {
            onnxRuntime(ort, info, ds, deploy, config, report);
        }
        return 0;
    }

    private static final List<String> ONNX_FILES = List.of("model-fp32.onnx", "model-int8.onnx");

    /** Exports both models, runs them in ONNX Runtime on the test split, and prints them next to the simulation. */
    private void onnxRuntime(OnnxRuntime ort, RunInfo info, ImageDataset ds, ComputationGraph deploy, PtqConfig config,
                             PtqReport report) throws Exception {
        OnnxExport.Input input = ExportCommand.onnxInput(info, ds);
        Map<String, String> meta = ExportCommand.metadata(info);
        Onnx.ModelProto fp32 = OnnxExport.fp32(deploy, input, meta);
        Onnx.ModelProto int8 = OnnxExport.int8(deploy, input,
                new OnnxExport.Int8Plan(report.activationPoints(), config.weights(), !s8Weights), meta);
        if (onnxDir != null) {
            OnnxExport.write(fp32, onnxDir.resolve(ONNX_FILES.get(0)));
            OnnxExport.write(int8, onnxDir.resolve(ONNX_FILES.get(1)));
        }
        OrtFigures f = OrtFigures.measure(ort, fp32.toByteArray(), ds.test(batch), onnxThreads, onnxSeconds);
        OrtFigures q = OrtFigures.measure(ort, int8.toByteArray(), ds.test(batch), onnxThreads, onnxSeconds);
        System.out.println("ONNX Runtime (CPU, " + (onnxThreads == 0 ? "default threads" : onnxThreads + " threads")
                + ", batch " + batch + ", " + f.examples() + " test images; INT8 weights "
                + (s8Weights ? "int8, U8S8 kernels" : "uint8 + 128, U8U8 kernels") + "):");
        System.out.printf(Locale.ROOT, "%-6s %14s %14s %14s%n", "", "simulated top1", "ORT top1", "ORT images/s");
        System.out.printf(Locale.ROOT, "%-6s %14.4f %14.4f %14.1f%n", "FP32", report.floatTop1(), f.top1(),
                f.imagesPerSecond());
        System.out.printf(Locale.ROOT, "%-6s %14.4f %14.4f %14.1f%n", "INT8", report.int8Top1(), q.top1(),
                q.imagesPerSecond());
        System.out.printf(Locale.ROOT, "ort_fp32_top1=%.4f ort_int8_top1=%.4f ort_int8_vs_simulated_points=%.2f "
                        + "ort_fp32_images_per_s=%.1f ort_int8_images_per_s=%.1f int8_fp32_speed_ratio=%.3f%n",
                f.top1(), q.top1(), 100 * (q.top1() - report.int8Top1()), f.imagesPerSecond(), q.imagesPerSecond(),
                q.imagesPerSecond() / f.imagesPerSecond());
    }
}
