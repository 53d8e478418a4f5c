package org.repopt.gr;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.regularization.Regularization.ApplyStep;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The maskless Grad Mult (issue 18): the hook multiplies DL4J's gradient view in place from per-channel vectors, with
 * the same result as the masked form {@code G * M} ({@link GradMult#create}), bit for bit, in every layout DL4J
 * hands over, and keeps only per-channel state.
 */
class GradMultHookTest {

    private static final Random RANDOM = new Random(18);

    private static double[] positive(int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = 0.1 + 2 * RANDOM.nextDouble();
        }
        return v;
    }

    /** Every kind of block: 1x1 and identity or not, k = 3 and 5, groups 1 and depthwise. */
    private static List<BlockScales> blocks() {
        return List.of(
                new BlockScales("vgg-identity", 5, 5, 1, positive(5), positive(5), positive(5)),
                new BlockScales("vgg-stride2", 3, 6, 2, positive(6), positive(6), null),
                new BlockScales("no1x1-identity", 4, 4, 1, 3, 1, positive(4), null, positive(4)),
                new BlockScales("no1x1-stride2", 4, 6, 2, 3, 1, positive(6), null, null),
                new BlockScales("k5-identity", 4, 4, 1, 5, 1, positive(4), positive(4), positive(4)),
                new BlockScales("k7-stride2", 2, 3, 2, 7, 1, positive(3), positive(3), null),
                BlockScales.depthwise("dw3-identity", 6, 1, 3, positive(6), positive(6)),
                BlockScales.depthwise("dw5-stride2", 6, 2, 5, positive(6), null),
                BlockScales.depthwise("dw5-identity", 3, 1, 5, positive(3), positive(3)));
    }

    /** The masked form's multiplier in the layout the hook sees: DL4J's {@code [k, k, C, 1]} for depthwise. */
    private static INDArray maskInDl4jLayout(BlockScales s, GradMult.Form form, DataType type) {
        INDArray m = GradMult.create(s, form, type);
        return s.depthwise() ? m.permute(2, 3, 0, 1).dup('c') : m;
    }

    private static long[] dl4jShape(BlockScales s) {
        int k = s.kernel();
        return s.depthwise() ? new long[]{k, k, s.outChannels(), 1} : GradMult.shape(s);
    }

    @Test
    void masklessEqualsTheMaskedFormExactly() {
        for (DataType type : List.of(DataType.DOUBLE, DataType.FLOAT)) {
            for (GradMult.Form form : GradMult.Form.values()) {
                for (BlockScales s : blocks()) {
                    String what = s + " " + form + " " + type;
                    INDArray g = Nd4j.rand(type, dl4jShape(s)).subi(0.5);
                    INDArray expected = g.mul(maskInDl4jLayout(s, form, type));

                    // the rank-4 view DL4J may hand over
                    INDArray rank4 = g.dup('c');
                    new GradMultHook(s, form, ApplyStep.BEFORE_UPDATER).apply(null, rank4, 0.1, 0, 0);
                    assertArrayEquals(expected.data().asDouble(), rank4.data().asDouble(), 0.0, what + " rank 4");

                    // the flat view of a layer's gradient, [bias | W]: only W changes, in place
                    long bias = 3;
                    INDArray layer = Nd4j.rand(type, 1, bias + g.length());
                    INDArray before = layer.dup();
                    INDArray flat = layer.get(NDArrayIndex.point(0), NDArrayIndex.interval(bias, bias + g.length()));
                    flat.assign(g.reshape('c', new long[]{g.length()}));
                    new GradMultHook(s, form, ApplyStep.BEFORE_UPDATER).apply(null, flat, 0.1, 0, 0);
                    INDArray w = layer.get(NDArrayIndex.point(0), NDArrayIndex.interval(bias, bias + g.length()));
                    assertArrayEquals(expected.reshape('c', new long[]{g.length()}).toDoubleVector(), w.toDoubleVector(), 0.0,
                            what + " flat view");
                    assertArrayEquals(before.get(NDArrayIndex.point(0), NDArrayIndex.interval(0, bias))
                            .toDoubleVector(), layer.get(NDArrayIndex.point(0), NDArrayIndex.interval(0, bias))
                            .toDoubleVector(), 0.0, what + " bias untouched");
                }
            }
        }
    }

    @Test
    void aDepthwiseKernelInPyTorchsLayoutGetsTheSameProduct() {
        BlockScales s = BlockScales.depthwise("dw", 4, 1, 3, positive(4), positive(4));
        INDArray g = Nd4j.rand(DataType.DOUBLE, 4, 1, 3, 3);
        INDArray expected = g.mul(GradMult.create(s, GradMult.Form.SGD, DataType.DOUBLE));
        new GradMultHook(s, GradMult.Form.SGD, ApplyStep.BEFORE_UPDATER).apply(null, g, 0.1, 0, 0);
        assertArrayEquals(expected.data().asDouble(), g.data().asDouble(), 0.0);
    }

    @Test
    void theMultiplierIsTheDocumentedFormula() {
        // independent of CentreTapAlgebra: M written out entry by entry from docs/METHOD.md#grad-mult-depthwise
        BlockScales dw = BlockScales.depthwise("dw", 3, 1, 5, new double[]{0.5, 2, 3}, new double[]{1, 1, 1});
        INDArray g = Nd4j.ones(DataType.DOUBLE, 5, 5, 3, 1);
        new GradMultHook(dw, GradMult.Form.SGD, ApplyStep.BEFORE_UPDATER).apply(null, g, 0.1, 0, 0);
        double[] s = dw.scaleConv();
        for (int p = 0; p < 5; p++) {
            for (int q = 0; q < 5; q++) {
                for (int c = 0; c < 3; c++) {
                    double m = s[c] * s[c] + (p == 2 && q == 2 ? 1 : 0);
                    assertEquals(m, g.getDouble(p, q, c, 0), 0.0, p + "," + q + "," + c);
                    assertEquals(m, GradMult.at(dw, GradMult.Form.SGD, c, 0, p, q), 0.0);
                }
            }
        }
        // odd k > 3, groups 1: the 1x1 and the identity at the centre tap (2, 2)
        BlockScales k5 = new BlockScales("k5", 2, 2, 1, 5, 1, new double[]{2, 3}, new double[]{5, 7},
                new double[]{1, 1});
        INDArray h = Nd4j.ones(DataType.DOUBLE, 2, 2, 5, 5);
        new GradMultHook(k5, GradMult.Form.ADAMW, ApplyStep.POST_UPDATER).apply(null, h, 0.1, 0, 0);
        for (int o = 0; o < 2; o++) {
            for (int i = 0; i < 2; i++) {
                for (int p = 0; p < 5; p++) {
                    for (int q = 0; q < 5; q++) {
                        double m = k5.scaleConv()[o] + (p == 2 && q == 2 ? k5.scale1x1()[o] + (o == i ? 1 : 0) : 0);
                        assertEquals(m, h.getDouble(o, i, p, q), 0.0, o + "," + i + "," + p + "," + q);
                    }
                }
            }
        }
        assertEquals(2 * (25 * (2 + 3) + 5 + 7) + 2, GradMult.sum(k5, GradMult.Form.ADAMW), 1e-12);
    }

    /**
     * Issue 18: no kernel-sized array per re-parameterized kernel. After 100 updates the INDArrays reachable from a
     * hook's fields hold at most {@code 3 * out} values, for both AdamW hooks of a kernel (issue 17 item 5).
     */
    @Test
    void retainedStateIsPerChannel() throws IllegalAccessException {
        BlockScales s = new BlockScales("wide", 32, 32, 1, positive(32), positive(32), positive(32));
        GradMultHook before = new GradMultHook(s, GradMult.Form.ADAMW, ApplyStep.BEFORE_UPDATER);
        GradMultHook after = new GradMultHook(s, GradMult.Form.ADAMW, ApplyStep.POST_UPDATER);
        INDArray g = Nd4j.rand(DataType.FLOAT, 1, s.kernelLength());
        for (int step = 0; step < 100; step++) {
            before.apply(null, g, 0.1, step, 0);
            after.apply(null, g, 0.1, step, 0);
            g.assign(step % 7 - 3.0);
        }
        for (GradMultHook hook : List.of(before, after)) {
            List<INDArray> held = reachableArrays(hook);
            assertArrayEquals(hook.retainedArrays(), held.toArray(), "retainedArrays() lists every field's array");
            long values = held.stream().mapToLong(INDArray::length).sum();
            assertTrue(values > 0 && values <= 3L * s.outChannels(), hook + " keeps " + values + " values");
            for (INDArray a : held) {
                assertEquals(1, a.rank(), "a per-channel vector, not " + Arrays.toString(a.shape()));
                assertTrue(!a.isAttached(), "created outside every workspace");
                assertEquals(DataType.FLOAT, a.dataType(), "in the gradient's data type");
            }
        }
    }

    /** Every INDArray reachable from {@code root} through instance fields of this package's classes. */
    private static List<INDArray> reachableArrays(Object root) throws IllegalAccessException {
        List<INDArray> out = new ArrayList<>();
        walk(root, out, new IdentityHashMap<>());
        return out;
    }

    private static void walk(Object o, List<INDArray> out, Map<Object, Boolean> seen) throws IllegalAccessException {
        if (o == null || seen.put(o, true) != null) {
            return;
        }
        if (o instanceof INDArray) {
            out.add((INDArray) o);
            return;
        }
        if (!o.getClass().getName().startsWith("org.repopt.gr.")) {
            return;
        }
        for (Field f : o.getClass().getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers()) || f.getType().isPrimitive()) {
                continue;
            }
            f.setAccessible(true);
            walk(f.get(o), out, seen);
        }
    }

    @Test
    void aGradientOfAnotherSizeIsRefusedNamingTheBlock() {
        BlockScales s = BlockScales.depthwise("blocks.0.0.ghost1", 4, 1, 3, positive(4), positive(4));
        GradMultHook hook = new GradMultHook(s, GradMult.Form.SGD, ApplyStep.BEFORE_UPDATER);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> hook.apply(null, Nd4j.zeros(DataType.FLOAT, 4, 4, 3, 3), 0.1, 0, 0));
        assertTrue(e.getMessage().contains("blocks.0.0.ghost1") && e.getMessage().contains("[3, 3, 4, 1]")
                && e.getMessage().contains("[4, 4, 3, 3]"), e.getMessage());
    }

    @Test
    void aGradientItCannotViewIsRefusedRatherThanCopied() {
        BlockScales s = new BlockScales("b", 2, 2, 1, positive(2), positive(2), positive(2));
        INDArray fOrder = Nd4j.rand(DataType.DOUBLE, 'f', 2L, 2L, 3L, 3L);
        IllegalStateException e = assertThrows(IllegalStateException.class, () ->
                new GradMultHook(s, GradMult.Form.SGD, ApplyStep.BEFORE_UPDATER).apply(null, fOrder, 0.1, 0, 0));
        assertTrue(e.getMessage().contains("without copying"), e.getMessage());
    }
}
