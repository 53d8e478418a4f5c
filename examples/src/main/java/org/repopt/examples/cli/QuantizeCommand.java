package org.repopt.examples.cli;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.repopt.data.ImageDataset;
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
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code ./repopt quantize}: INT8 post-training quantization of a trained run's deploy model. */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = {"INT8 post-training quantization (simulated) of the deploy model of a ./repopt train run: BN "
                + "folded, symmetric INT8 weights, activations quantized after every ReLU with calibrated ranges.",
                "Prints float and INT8 top-1 on the test split, the drop, and per-layer weight statistics."})
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

    @Override
    public Integer call() throws Exception {
        RunInfo info = RunInfo.read(run);
        if (!info.dataset().equals(data.dataset)) {
            throw new IllegalArgumentException(run + " was trained on " + info.dataset() + ", not on --dataset "
                    + data.dataset);
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
        return 0;
    }
}
