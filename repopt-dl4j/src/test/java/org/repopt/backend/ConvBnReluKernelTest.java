package org.repopt.backend;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The kernel's lifetime: what it allocated goes with it. */
class ConvBnReluKernelTest {

    /** A training forward and backward pass of {@code k} on random data: {@code n} examples of {@code c x hw x hw}. */
    private static void step(ConvBnReluKernel k, int n, int hw) {
        ConvBnReluKernel.Geometry g = k.geometry();
        int c = g.nIn();
        int o = g.nOut();
        int oh = (hw + 2 - 3) / g.strideH() + 1;
        INDArray x = Nd4j.rand(DataType.FLOAT, n, c, hw, hw);
        INDArray w = Nd4j.rand(DataType.FLOAT, o, c, 3, 3);
        INDArray gamma = Nd4j.ones(DataType.FLOAT, o);
        INDArray beta = Nd4j.zeros(DataType.FLOAT, o);
        k.forwardTraining(x, w, gamma, beta,
                Nd4j.createUninitialized(DataType.FLOAT, n, oh, oh, o).permute(0, 3, 1, 2));
        k.backward(x, w, gamma, beta, Nd4j.rand(DataType.FLOAT, n, o, oh, oh), Nd4j.create(DataType.FLOAT, o, c, 3, 3),
                Nd4j.create(DataType.FLOAT, o), Nd4j.create(DataType.FLOAT, o),
                Nd4j.createUninitialized(DataType.FLOAT, n, hw, hw, c).permute(0, 3, 1, 2));
    }

    /**
     * Threads making plans for the same new shapes at once (Spark workers or replicas in one process) get one
     * implementation per shape. The tuner times one thread at a time: timings taken side by side crashed oneDNN 2.5
     * (heap corruption, within a minute with 8 threads, see {@code ImplementationTuner}).
     */
    @Test
    void threadsTuningTheSameShapesAtOnceGetOneImplementationEach() throws Exception {
        Assumptions.assumeTrue(OneDnn.available(), () -> "oneDNN not present: " + OneDnn.unavailableReason());
        int threads = 4;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Map<String, String>>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                done.add(pool.submit(() -> {
                    ConvBnReluKernel k = new ConvBnReluKernel(new ConvBnReluKernel.Geometry(3, 8, 3, 3, 2, 2, 1, 1,
                            1e-5));
                    for (int n = 17; n <= 20; n++) {   // batch sizes no other test uses: new keys to tune
                        step(k, n, 9);
                    }
                    Map<String, String> implementations = k.implementations();
                    k.close();
                    return implementations;
                }));
            }
            Map<String, String> first = done.get(0).get();
            for (Future<Map<String, String>> f : done) {
                assertEquals(first, f.get(), "implementations chosen per plan");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** @return a kernel that has made its primitives and buffers (a training step), no longer referenced */
    private static WeakReference<ConvBnReluKernel> usedThenDropped() {
        ConvBnReluKernel k = new ConvBnReluKernel(new ConvBnReluKernel.Geometry(2, 3, 3, 3, 1, 1, 1, 1, 1e-5));
        step(k, 2, 5);
        return new WeakReference<>(k);
    }

    /**
     * A kernel nobody holds is collected, so its cleaner frees its oneDNN primitives and buffers: nothing it made may
     * point back to it (a network dropped after training, e.g. each Spark worker's copy per averaging round, would
     * otherwise keep every fused layer's native memory for the life of the process).
     */
    @Test
    void aKernelNobodyHoldsIsCollected() throws InterruptedException {
        Assumptions.assumeTrue(OneDnn.available(), () -> "oneDNN not present: " + OneDnn.unavailableReason());
        WeakReference<ConvBnReluKernel> ref = usedThenDropped();
        for (int i = 0; i < 50 && ref.get() != null; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertNull(ref.get(), "the kernel is still reachable after it was dropped");
    }
}
