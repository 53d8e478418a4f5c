package org.repopt.quant;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * INT8 post-training quantization of a trained plain VGG, simulated in DL4J: the entry point the CLI calls.
 *
 * <p>The recipe ({@link #run}):
 * <ol>
 *   <li>Fold batch normalization into the convolutions ({@link BnFolding}).</li>
 *   <li>Calibrate one activation range per quantization point (network input, every ReLU output, the pooled
 *       features) on the first N calibration batches, by min-max or a histogram percentile ({@link Calibrator}).</li>
 *   <li>Quantize the weights of every convolution and of the classifier to symmetric INT8 ({@code scale =
 *       max|w| / 127}, per tensor or per output channel, round to nearest even), biases kept in float; insert a
 *       fake-quant layer at each point: by default unsigned {@code [0, 255]} after ReLU and pooling and signed
 *       {@code [-127, 127]} on a possibly negative input, or signed everywhere ({@link ActivationGrid},
 *       {@link FakeQuantization}).</li>
 *   <li>Evaluate top-1 of the trained float graph and of the fake-quantized graph on the same data.</li>
 * </ol>
 */
public final class Int8Ptq {

    private static final Logger LOG = LoggerFactory.getLogger(Int8Ptq.class);

    /** The label of the pooled statistics row. */
    public static final String ALL_CONV_LABEL = "all convs";

    private Int8Ptq() {
    }

    /**
     * @param trained     a trained plain VGG (with or without batch normalization); not modified
     * @param calibration calibration batches (normally training data); its first {@code config.calibrationBatches()}
     *                    batches are used, after a reset when supported
     * @param evaluation  evaluation data; it is read twice (float, then INT8), so it must support reset
     * @param config      the options
     * @return the report
     * @throws IllegalArgumentException if the graph is not a plain VGG, the evaluation iterator cannot be reset or
     *                                  the calibration iterator is too short
     */
    public static PtqReport run(ComputationGraph trained, DataSetIterator calibration, DataSetIterator evaluation,
                                PtqConfig config) {
        if (!evaluation.resetSupported()) {
            throw new IllegalArgumentException("the evaluation iterator " + evaluation.getClass().getSimpleName()
                    + " does not support reset; it is read twice (float and INT8)");
        }
        ComputationGraph deploy = BnFolding.fold(trained);
        List<QuantPoint> points = Calibrator.calibrate(deploy, calibration, config.calibrationBatches(),
                config.activations(), config.grid());
        ComputationGraph int8 = FakeQuantization.apply(deploy, points, config.weights());
        Evaluation floatEval = evaluate(trained, evaluation);
        Evaluation int8Eval = evaluate(int8, evaluation);
        if (floatEval.getNumRowCounter() != int8Eval.getNumRowCounter()) {
            throw new IllegalStateException("the evaluation iterator gave " + floatEval.getNumRowCounter()
                    + " examples for the float graph and " + int8Eval.getNumRowCounter() + " for the INT8 graph");
        }
        PtqReport report = new PtqReport(config, floatEval.accuracy(), int8Eval.accuracy(),
                (long) floatEval.getNumRowCounter(), WeightStats.ofConvLayers(deploy),
                WeightStats.ofAllConvLayers(deploy, ALL_CONV_LABEL), points);
        LOG.info("INT8 PTQ: float top-1 {}, int8 top-1 {}, drop {} points", report.floatTop1(), report.int8Top1(),
                report.top1DropPoints());
        return report;
    }

    /**
     * @param trained a trained plain VGG; not modified
     * @return the statistics of its deployed (BN-folded) convolution kernels, in forward order
     */
    public static List<WeightStats> deployedWeightStats(ComputationGraph trained) {
        return WeightStats.ofConvLayers(BnFolding.fold(trained));
    }

    private static Evaluation evaluate(ComputationGraph g, DataSetIterator data) {
        data.reset();
        Evaluation e = g.evaluate(data);
        if (e.getNumRowCounter() < 1) {
            throw new IllegalArgumentException("the evaluation iterator gave no examples");
        }
        return e;
    }
}
