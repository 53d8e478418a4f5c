package org.repopt.data;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Shuffling, batching, subsets and data types, on a tiny in-memory set whose label is the example's index. */
class EpochBatchesTest {

    static final int N = 30;
    static final int SIDE = 8;

    /** {@code n} random 1x8x8 images; example {@code i} has label {@code i}, so a batch reveals its order. */
    static ImageDataset tiny(int n, DataOptions options) {
        List<String> names = new ArrayList<>();
        byte[] labels = new byte[n];
        for (int i = 0; i < n; i++) {
            names.add("c" + i);
            labels[i] = (byte) i;
        }
        ByteImages train = new ByteImages(n, 1, SIDE, SIDE, DataFixtures.bytes(n * SIDE * SIDE, 5), labels);
        ByteImages test = new ByteImages(n, 1, SIDE, SIDE, DataFixtures.bytes(n * SIDE * SIDE, 6), labels.clone());
        return new InMemoryDataset("tiny", train, test, names, ChannelStats.FASHION_MNIST, options);
    }

    static List<DataSet> all(DataSetIterator it) {
        List<DataSet> out = new ArrayList<>();
        while (it.hasNext()) {
            out.add(it.next());
        }
        return out;
    }

    /** @return the example indices of an epoch, in order */
    static int[] order(List<DataSet> batches) {
        return batches.stream().flatMapToInt(b -> Arrays.stream(b.getLabels().argMax(1).toIntVector())).toArray();
    }

    static void assertSame(List<DataSet> a, List<DataSet> b) {
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).getFeatures(), b.get(i).getFeatures(), "features of batch " + i);
            assertEquals(a.get(i).getLabels(), b.get(i).getLabels(), "labels of batch " + i);
        }
    }

    @Test
    void sameSeedAndEpochGiveIdenticalBatchesWhateverTheTiming() throws Exception {
        EpochBatches train = tiny(N, DataOptions.DEFAULTS).train(4, 42L);
        List<DataSet> fast = all(train.epoch(3));
        // A slow consumer on another thread, started while a second one runs: the prefetch races differently.
        CompletableFuture<List<DataSet>> slow = CompletableFuture.supplyAsync(() -> {
            List<DataSet> out = new ArrayList<>();
            DataSetIterator it = train.epoch(3);
            while (it.hasNext()) {
                out.add(it.next());
                try {
                    Thread.sleep(3);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }
            return out;
        });
        List<DataSet> concurrent = all(tiny(N, DataOptions.DEFAULTS).train(4, 42L).epoch(3));
        assertSame(fast, slow.get());
        assertSame(fast, concurrent);
    }

    @Test
    void epochsAndSeedsDiffer() {
        EpochBatches train = tiny(N, DataOptions.DEFAULTS).train(4, 42L);
        int[] e0 = order(all(train.epoch(0)));
        int[] e1 = order(all(train.epoch(1)));
        int[] otherSeed = order(all(tiny(N, DataOptions.DEFAULTS).train(4, 43L).epoch(0)));
        assertFalse(Arrays.equals(e0, e1));
        assertFalse(Arrays.equals(e0, otherSeed));
        // The same example is augmented differently in another epoch.
        DataSetIterator first = train.epoch(0);
        INDArray a = first.next().getFeatures();
        assertNotEquals(a, train.epoch(1).next().getFeatures());
    }

    @Test
    void everyExampleOncePerEpochInBatchesOfTheGivenSize() {
        EpochBatches train = tiny(N, DataOptions.DEFAULTS).train(8, 1L);
        assertEquals(N, train.examples());
        assertEquals(4, train.batchesPerEpoch());
        DataSetIterator it = train.epoch(0);
        assertEquals(8, it.batch());
        assertEquals(SIDE * SIDE, it.inputColumns());
        assertEquals(N, it.totalOutcomes());
        assertFalse(it.asyncSupported());
        assertEquals("c0", it.getLabels().get(0));
        List<DataSet> batches = all(it);
        assertEquals(List.of(8L, 8L, 8L, 6L), batches.stream().map(b -> b.getFeatures().size(0)).toList());
        int[] order = order(batches);
        assertArrayEquals(IntStream.range(0, N).toArray(), Arrays.stream(order).sorted().toArray());
        assertThrows(NoSuchElementException.class, it::next);
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> it.next(3));
        assertTrue(e.getMessage().contains("fixed at 8"), e.getMessage());
    }

    @Test
    void resetReplaysTheSameEpoch() {
        DataSetIterator it = tiny(N, DataOptions.DEFAULTS).train(7, 3L).epoch(2);
        List<DataSet> first = all(it);
        it.reset();
        assertSame(first, all(it));
        // A reset in the middle, with a prefetch in flight, also starts over.
        it.reset();
        it.next();
        it.reset();
        assertSame(first, all(it));
    }

    @Test
    void doubleBatchesHoldTheFloatValues() {
        List<DataSet> f = all(tiny(N, DataOptions.DEFAULTS).train(16, 9L).epoch(1));
        List<DataSet> d = all(tiny(N, DataOptions.DEFAULTS.withDataType(DataType.DOUBLE)).train(16, 9L).epoch(1));
        assertEquals(DataType.DOUBLE, d.get(0).getFeatures().dataType());
        assertEquals(DataType.DOUBLE, d.get(0).getLabels().dataType());
        assertEquals(DataType.FLOAT, f.get(0).getFeatures().dataType());
        for (int i = 0; i < f.size(); i++) {
            assertEquals(f.get(i).getFeatures().castTo(DataType.DOUBLE), d.get(i).getFeatures());
            assertEquals(f.get(i).getLabels().castTo(DataType.DOUBLE), d.get(i).getLabels());
        }
        DataSet test = tiny(N, DataOptions.DEFAULTS.withDataType(DataType.DOUBLE)).test(5).next();
        assertEquals(DataType.DOUBLE, test.getFeatures().dataType());
    }

    @Test
    void firstSubsetUsesTheFirstExamples() {
        ImageDataset data = tiny(N, DataOptions.DEFAULTS.withSubset(Subset.first(10)));
        assertEquals(10, data.trainExamples());
        assertEquals(N, data.testExamples());
        int[] order = order(all(data.train(4, 0L).epoch(0)));
        assertArrayEquals(IntStream.range(0, 10).toArray(), Arrays.stream(order).sorted().toArray());
    }

    @Test
    void randomSubsetIsSeededAndInFileOrder() {
        int[] a = Subset.random(12, 5L).select(N, "tiny");
        assertArrayEquals(a, Subset.random(12, 5L).select(N, "tiny"));
        assertFalse(Arrays.equals(a, Subset.random(12, 6L).select(N, "tiny")));
        assertArrayEquals(Arrays.stream(a).sorted().toArray(), a);
        assertEquals(12, Arrays.stream(a).distinct().count());
        ImageDataset data = tiny(N, DataOptions.DEFAULTS.withSubset(Subset.random(12, 5L)));
        Set<Integer> seen = new HashSet<>();
        for (int i : order(all(data.train(5, 0L).epoch(4)))) {
            seen.add(i);
        }
        assertEquals(Arrays.stream(a).boxed().collect(Collectors.toSet()), seen);
    }

    @Test
    void subsetLargerThanTheTrainingSplit() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> tiny(N, DataOptions.DEFAULTS).withOptions(DataOptions.DEFAULTS.withSubset(Subset.first(31))));
        assertTrue(e.getMessage().contains("tiny: subset of 31 training examples requested, the training split has only 30"),
                e.getMessage());
    }

    @Test
    void badArguments() {
        EpochBatches train = tiny(N, DataOptions.DEFAULTS).train(4, 0L);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> train.epoch(-1));
        assertTrue(e.getMessage().contains("epoch -1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> tiny(N, DataOptions.DEFAULTS).train(0, 0L));
        assertTrue(e.getMessage().contains("batch size 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> tiny(N, DataOptions.DEFAULTS).test(0));
        assertTrue(e.getMessage().contains("batch size 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> tiny(N, DataOptions.DEFAULTS).withOptions(DataOptions.DEFAULTS.withPadding(SIDE)));
        assertTrue(e.getMessage().contains("padding 8") && e.getMessage().contains("image side 8"), e.getMessage());
    }
}
