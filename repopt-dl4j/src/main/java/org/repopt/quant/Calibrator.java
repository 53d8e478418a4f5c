package org.repopt.quant;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Calibrates the activation quantizers of a {@linkplain PlainVgg plain VGG}: runs the float graph in inference mode
 * on calibration batches and derives one clipping range per quantization point with a {@link RangeEstimator}.
 *
 * <p>The points are the inputs of every integer layer: the network input (the first convolution's input), every
 * ReLU output (the next convolution's input, or the pooling's) and the pooled features (the classifier's input).
 * With {@link ActivationGrid#UNSIGNED_AFTER_RELU}, ReLU outputs and pooled features (non-negative) get the
 * unsigned grid {@code [0, 255]}: a signed grid would spend half its codes on values that never occur, doubling the
 * step; the network input gets the signed grid {@code [-127, 127]} if any calibration input is negative
 * (normalized images), else the unsigned grid. With {@link ActivationGrid#SIGNED} every point is signed.
 */
public final class Calibrator {

    private static final Logger LOG = LoggerFactory.getLogger(Calibrator.class);

    private Calibrator() {
    }

    /**
     * @param graph     a plain VGG in float (folded or not: batch normalization folding does not change
     *                  activations)
     * @param batches   calibration data; reset first when it supports resetting, then its first {@code count}
     *                  batches are used (labels ignored)
     * @param count     how many batches, {@code >= 1}
     * @param estimator how a range is read from the observed magnitudes
     * @param grid      unsigned grids for non-negative activations, or signed grids everywhere
     * @return the quantization points in forward order
     * @throws IllegalArgumentException if the iterator has fewer than {@code count} batches, or a point saw only zeros
     */
    public static List<QuantPoint> calibrate(ComputationGraph graph, DataSetIterator batches, int count,
                                             RangeEstimator estimator, ActivationGrid grid) {
        if (count < 1) {
            throw new IllegalArgumentException("calibration batch count must be >= 1, got " + count);
        }
        PlainVgg vgg = PlainVgg.of(graph);
        Map<String, ActivationHistogram> hist = new LinkedHashMap<>();
        hist.put(vgg.input(), new ActivationHistogram());
        vgg.blocks().forEach(b -> hist.put(b.relu(), new ActivationHistogram()));
        hist.put(vgg.pooling(), new ActivationHistogram());
        boolean negativeInput = false;
        if (batches.resetSupported()) {
            batches.reset();
        }
        for (int i = 0; i < count; i++) {
            if (!batches.hasNext()) {
                throw new IllegalArgumentException("calibration iterator ended after " + i + " batches, " + count
                        + " requested");
            }
            DataSet ds = batches.next();
            INDArray x = ds.getFeatures();
            negativeInput |= x.minNumber().doubleValue() < 0;
            Map<String, INDArray> acts = graph.feedForward(new INDArray[]{x}, false);
            for (Map.Entry<String, ActivationHistogram> e : hist.entrySet()) {
                e.getValue().add(e.getKey().equals(vgg.input()) ? x : acts.get(e.getKey()));
            }
        }
        List<QuantPoint> points = new ArrayList<>();
        for (Map.Entry<String, ActivationHistogram> e : hist.entrySet()) {
            double range = estimator.range(e.getValue());
            if (range == 0) {
                throw new IllegalArgumentException("quantization point after '" + e.getKey() + "' saw only zeros in "
                        + count + " calibration batches: no range to calibrate");
            }
            boolean signed = grid == ActivationGrid.SIGNED || (e.getKey().equals(vgg.input()) && negativeInput);
            QuantPoint p = new QuantPoint(e.getKey(), signed, range);
            LOG.debug("calibrated {}: {} {} range {} (max {}), scale {}", e.getKey(), estimator,
                    signed ? "signed" : "unsigned", range, e.getValue().max(), p.scale());
            points.add(p);
        }
        return points;
    }
}
