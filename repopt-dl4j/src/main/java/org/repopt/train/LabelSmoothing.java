package org.repopt.train;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;

import java.util.Arrays;

/**
 * Label smoothing (the paper trains ImageNet with {@code e = 0.1}, docs/METHOD.md#training-recipe): replaces one-hot labels
 * {@code y} over {@code K} classes by
 * <pre>{@code
 * q = (1 - e) * y + e / K
 * }</pre>
 * Fed to DL4J's MCXENT loss ({@code -sum_k q_k log p_k}) this is exactly PyTorch's
 * {@code CrossEntropyLoss(label_smoothing=e)} and timm's {@code LabelSmoothingCrossEntropy(e)} of the reference
 * code, {@code (1 - e) * nll + e * mean_k(-log p_k)}; since {@code q} still sums to 1, MCXENT's softmax gradient
 * {@code p - q} stays exact.
 *
 * <p>The smoothed labels are a new array: a data set whose label array is a view of a cached split is never
 * changed in place. The trainer applies it to training batches only, after the iterator's own pre-processor.
 */
public final class LabelSmoothing implements DataSetPreProcessor {

    private static final long serialVersionUID = 1L;

    private final double epsilon;

    /**
     * @param epsilon the smoothing {@code e}, in {@code [0, 1)}
     * @throws IllegalArgumentException when {@code epsilon} is out of range
     */
    public LabelSmoothing(double epsilon) {
        if (!(epsilon >= 0 && epsilon < 1)) {
            throw new IllegalArgumentException("label smoothing must be in [0, 1), got " + epsilon);
        }
        this.epsilon = epsilon;
    }

    /** @return the smoothing {@code e} */
    public double epsilon() {
        return epsilon;
    }

    /**
     * @param labels one-hot labels {@code [batch, K]}
     * @return a new array {@code (1 - e) * labels + e / K}
     * @throws IllegalArgumentException when {@code labels} is not a matrix
     */
    public INDArray smooth(INDArray labels) {
        if (labels.rank() != 2) {
            throw new IllegalArgumentException("label smoothing expects labels [batch, classes], got shape "
                    + Arrays.toString(labels.shape()));
        }
        long classes = labels.size(1);
        return labels.mul(1 - epsilon).addi(epsilon / classes);
    }

    /** Replaces the labels of {@code dataSet} by their smoothed copy. */
    @Override
    public void preProcess(DataSet dataSet) {
        dataSet.setLabels(smooth(dataSet.getLabels()));
    }

    @Override
    public String toString() {
        return "LabelSmoothing{" + epsilon + "}";
    }
}
