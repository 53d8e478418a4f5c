package org.repopt.parallel;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Worker {@code w} gets the {@code w}-th run of consecutive rows; uneven batches differ by one example at most. */
class WorkerSlicesTest {

    /** A batch whose example {@code i} has features {@code [i, i]} and label {@code i}. */
    private static DataSet rows(int n) {
        double[] f = new double[2 * n];
        double[] l = new double[n];
        for (int i = 0; i < n; i++) {
            f[2 * i] = i;
            f[2 * i + 1] = i;
            l[i] = i;
        }
        return new DataSet(Nd4j.create(f, new long[]{n, 2}, DataType.DOUBLE),
                Nd4j.create(l, new long[]{n, 1}, DataType.DOUBLE));
    }

    private static void assertRows(DataSet slice, int from, int to) {
        assertEquals(to - from, slice.numExamples());
        for (int i = from; i < to; i++) {
            assertEquals(i, slice.getFeatures().getDouble(i - from, 1), 0);
            assertEquals(i, slice.getLabels().getDouble(i - from, 0), 0);
        }
    }

    @Test
    void equalShares() {
        List<DataSet> s = WorkerSlices.split(rows(8), 2);
        assertEquals(2, s.size());
        assertRows(s.get(0), 0, 4);
        assertRows(s.get(1), 4, 8);
    }

    @Test
    void aSmallerBatchGivesTheFirstWorkersOneMore() {
        List<DataSet> s = WorkerSlices.split(rows(7), 3);
        assertRows(s.get(0), 0, 3);
        assertRows(s.get(1), 3, 5);
        assertRows(s.get(2), 5, 7);
        List<DataSet> few = WorkerSlices.split(rows(2), 3);
        assertEquals(2, few.size(), "the third worker sits the step out");
        assertRows(few.get(1), 1, 2);
    }

    @Test
    void theBatchSizeMustBeAMultipleOfTheWorkers() {
        assertEquals(32, WorkerSlices.perWorker(64, 2));
        String m = assertThrows(IllegalArgumentException.class, () -> WorkerSlices.perWorker(64, 3)).getMessage();
        assertTrue(m.contains("batch size 64 cannot be split into 3 equal worker mini-batches"), m);
    }
}
