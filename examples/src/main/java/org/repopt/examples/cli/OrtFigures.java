package org.repopt.examples.cli;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

/**
 * Top-1 and inference speed of an ONNX model in ONNX Runtime.
 *
 * @param top1            top-1 accuracy on the evaluation data, in {@code [0, 1]}
 * @param examples        how many examples it was measured on
 * @param imagesPerSecond images per second over repeated runs of the first batch, after a warm-up
 */
record OrtFigures(double top1, long examples, double imagesPerSecond) {

    private static final int WARM_UP_RUNS = 3;

    /**
     * @param ort     ONNX Runtime
     * @param model   the model's bytes
     * @param data    evaluation batches (the first also times the model)
     * @param threads intra-op threads (0: ONNX Runtime's default)
     * @param seconds how long to time
     * @return the figures
     * @throws Exception when ONNX Runtime refuses the model
     */
    static OrtFigures measure(OnnxRuntime ort, byte[] model, DataSetIterator data, int threads, double seconds)
            throws Exception {
        try (OnnxRuntime.Model m = ort.load(model, threads)) {
            long correct = 0;
            long seen = 0;
            INDArray first = null;
            data.reset();
            while (data.hasNext()) {
                DataSet b = data.next();
                if (first == null) {
                    first = b.getFeatures().dup();
                }
                INDArray p = m.output(b.getFeatures());
                long[] predicted = p.argMax(1).toLongVector();
                long[] actual = b.getLabels().argMax(1).toLongVector();
                for (int i = 0; i < predicted.length; i++) {
                    correct += predicted[i] == actual[i] ? 1 : 0;
                }
                seen += predicted.length;
            }
            if (first == null) {
                throw new IllegalArgumentException("the evaluation data gave no examples");
            }
            for (int i = 0; i < WARM_UP_RUNS; i++) {
                m.output(first);
            }
            long images = 0;
            long start = System.nanoTime();
            long end = start + (long) (seconds * 1e9);
            long now;
            do {
                m.output(first);
                images += first.size(0);
                now = System.nanoTime();
            } while (now < end);
            return new OrtFigures((double) correct / seen, seen, images / ((now - start) / 1e9));
        }
    }
}
