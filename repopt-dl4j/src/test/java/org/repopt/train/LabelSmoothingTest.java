package org.repopt.train;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LabelSmoothingTest {

    private static final double[][] LOGITS = {{1.5, -0.3, 0.2, 2.0}, {0.1, 0.4, -1.2, 0.0}, {3.0, 1.0, -2.0, 0.5}};
    private static final int[] CLASSES = {3, 1, 0};

    private static INDArray oneHot() {
        INDArray y = Nd4j.zeros(DataType.DOUBLE, 3, 4);
        for (int i = 0; i < 3; i++) {
            y.putScalar(i, CLASSES[i], 1.0);
        }
        return y;
    }

    /** {@code mean_i [(1 - e) * -log p_i[y_i] + e * mean_k(-log p_i[k])]}, by hand from the logits. */
    private static double handLoss(double e) {
        double sum = 0;
        for (int i = 0; i < LOGITS.length; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (double z : LOGITS[i]) {
                max = Math.max(max, z);
            }
            double norm = 0;
            for (double z : LOGITS[i]) {
                norm += Math.exp(z - max);
            }
            double logNorm = max + Math.log(norm);
            double nll = logNorm - LOGITS[i][CLASSES[i]];
            double uniform = 0;
            for (double z : LOGITS[i]) {
                uniform += (logNorm - z) / LOGITS[i].length;
            }
            sum += (1 - e) * nll + e * uniform;
        }
        return sum / LOGITS.length;
    }

    private static double mcxent(INDArray labels) {
        return new LossMCXENT().computeScore(labels, Nd4j.createFromArray(LOGITS), new ActivationSoftmax(), null,
                true);
    }

    @Test
    void smoothedLabelsAreTheMixture() {
        INDArray q = new LabelSmoothing(0.1).smooth(oneHot());
        assertArrayEquals(new double[]{0.025, 0.025, 0.025, 0.925}, q.getRow(0).toDoubleVector(), 1e-15);
        assertEquals(1.0, q.getRow(2).sumNumber().doubleValue(), 1e-15);
    }

    @Test
    void mcxentOnSmoothedLabelsIsTheLabelSmoothingCrossEntropy() {
        for (double e : new double[]{0.0, 0.1, 0.25}) {
            double dl4j = mcxent(new LabelSmoothing(e).smooth(oneHot()));
            assertEquals(handLoss(e), dl4j, 1e-12, "e = " + e);
        }
        // torch.nn.functional.cross_entropy(logits, [3, 1, 0], label_smoothing=e) in float64, torch 1.13
        assertEquals(0.5966067803366396, mcxent(new LabelSmoothing(0.0).smooth(oneHot())), 1e-12);
        assertEquals(0.7332734470033063, mcxent(new LabelSmoothing(0.1).smooth(oneHot())), 1e-12);
        assertEquals(0.9382734470033063, mcxent(new LabelSmoothing(0.25).smooth(oneHot())), 1e-12);
    }

    @Test
    void preProcessLeavesTheOriginalLabelsAlone() {
        INDArray labels = oneHot();
        INDArray copy = labels.dup();
        DataSet ds = new DataSet(Nd4j.zeros(DataType.DOUBLE, 3, 1, 2, 2), labels);
        new LabelSmoothing(0.1).preProcess(ds);
        assertEquals(copy, labels, "a cached label array is never changed in place");
        assertEquals(0.925, ds.getLabels().getDouble(0, 3), 1e-15);
    }

    @Test
    void badInputIsNamed() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new LabelSmoothing(1.0)).getMessage()
                .contains("label smoothing must be in [0, 1), got 1.0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new LabelSmoothing(Double.NaN)).getMessage()
                .contains("got NaN"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new LabelSmoothing(0.1).smooth(Nd4j.zeros(DataType.DOUBLE, 2, 3, 4))).getMessage()
                .contains("expects labels [batch, classes], got shape [2, 3, 4]"));
    }
}
