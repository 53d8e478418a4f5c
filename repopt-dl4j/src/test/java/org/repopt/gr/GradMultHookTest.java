package org.repopt.gr;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.nd4j.linalg.learning.regularization.L2Regularization;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.linalg.learning.regularization.Regularization.ApplyStep;
import org.nd4j.shade.jackson.databind.ObjectMapper;

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
 * the masked form's result {@code G * M} ({@link GradMult#create}) up to the stated bound at the centre tap, in every
 * layout DL4J hands over, and keeps only per-channel state.
 */
class GradMultHookTest {

    private static final Random RANDOM = new Random(18);

    static double[] positive(int n) {
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

    /**
     * Every entry off the centre tap, every identity-diagonal entry and every depthwise entry equals the masked form
     * {@code G * M} bit for bit; a groups-1 centre entry is within {@code 5u (|s_k^p| + |s1^p|) |G|} of it (the hook
     * rounds three times there, the masked form twice; docs/METHOD.md#grad-mult-factored). Checked in double and
     * float, both forms, on the rank-4 view and on a flat view inside a layer's {@code [bias | W]} gradient.
     */
    @Test
    void masklessEqualsTheMaskedFormUpToTheCentreTapBound() {
        for (DataType type : List.of(DataType.DOUBLE, DataType.FLOAT)) {
            double u = type == DataType.DOUBLE ? Math.ulp(1.0) / 2 : Math.ulp(1.0f) / 2;
            for (GradMult.Form form : GradMult.Form.values()) {
                for (BlockScales s : blocks()) {
                    String what = s + " " + form + " " + type;
                    INDArray g = Nd4j.rand(type, dl4jShape(s)).subi(0.5);
                    INDArray expected = g.mul(maskInDl4jLayout(s, form, type));

                    INDArray rank4 = g.dup('c');
                    new GradMultHook(s, form, ApplyStep.BEFORE_UPDATER).apply(null, rank4, 0.1, 0, 0);
                    assertWithinBound(s, form, u, g, expected, rank4, what + " rank 4");

                    // the flat view of a layer's gradient inside a network's, [... | bias | W]: only W changes
                    for (long bias : new long[]{3, 36, 40}) {
                    INDArray layer = Nd4j.rand(type, 1, bias + g.length());
                    INDArray before = layer.dup();
                    INDArray flat = layer.get(NDArrayIndex.point(0), NDArrayIndex.interval(bias, bias + g.length()));
                    flat.assign(g.reshape('c', new long[]{g.length()}));
                    new GradMultHook(s, form, ApplyStep.BEFORE_UPDATER).apply(null, flat, 0.1, 0, 0);
                    INDArray w = layer.get(NDArrayIndex.point(0), NDArrayIndex.interval(bias, bias + g.length()));
                    assertWithinBound(s, form, u, g, expected, w.reshape('c', dl4jShape(s)), what + " flat view at " + bias);
                    assertArrayEquals(before.get(NDArrayIndex.point(0), NDArrayIndex.interval(0, bias))
                            .toDoubleVector(), layer.get(NDArrayIndex.point(0), NDArrayIndex.interval(0, bias))
                            .toDoubleVector(), 0.0, what + " bias untouched");
                    }
                }
            }
        }
    }

    /**
     * On the CPU backend the hook takes one pass over the kernel's memory, one rounding per entry: the masked form
     * {@code G * M} bit for bit everywhere, centre taps included, on a view inside a larger buffer too.
     */
    @Test
    void onTheCpuBackendTheHookIsTheMaskedFormBitForBit() {
        Assumptions.assumeTrue(Nd4j.getBackend().getClass().getSimpleName().startsWith("Cpu"), "not the CPU backend");
        for (DataType type : List.of(DataType.DOUBLE, DataType.FLOAT)) {
            for (GradMult.Form form : GradMult.Form.values()) {
                for (BlockScales s : blocks()) {
                    INDArray g = Nd4j.rand(type, dl4jShape(s)).subi(0.5);
                    INDArray expected = g.mul(maskInDl4jLayout(s, form, type));
                    INDArray layer = Nd4j.rand(type, 1, 40 + g.length());
                    INDArray flat = layer.get(NDArrayIndex.point(0), NDArrayIndex.interval(40, 40 + g.length()));
                    flat.assign(g.reshape('c', new long[]{g.length()}));
                    new GradMultHook(s, form, ApplyStep.BEFORE_UPDATER).apply(null, flat, 0.1, 0, 0);
                    INDArray w = layer.get(NDArrayIndex.point(0), NDArrayIndex.interval(40, 40 + g.length()));
                    assertArrayEquals(expected.dup('c').data().asDouble(), w.dup('c').data().asDouble(), 0.0,
                            s + " " + form + " " + type);
                }
            }
        }
    }

    private static void assertWithinBound(BlockScales s, GradMult.Form form, double u, INDArray g, INDArray expected,
                                          INDArray actual, String what) {
        double[] e = expected.dup('c').data().asDouble();
        double[] x = actual.dup('c').data().asDouble();
        double[] gv = g.dup('c').data().asDouble();
        int k = s.kernel();
        int centre = k / 2;
        int in = s.inChannelsPerGroup();
        double[] a = GradMult.powered(s.scaleConv(), form);
        double[] b = s.hasConv1x1() ? GradMult.powered(s.scale1x1(), form) : new double[a.length];
        for (int j = 0; j < e.length; j++) {
            int tap = j % (k * k);
            int i = (j / (k * k)) % in;
            int o = j / (k * k * in);
            boolean inexact = !s.depthwise() && tap == centre * k + centre && !(s.hasIdentity() && o == i);
            double bound = inexact ? 5 * u * (Math.abs(a[o]) + Math.abs(b[o])) * Math.abs(gv[j]) * (1 + 4 * u) : 0.0;
            assertTrue(Math.abs(e[j] - x[j]) <= bound, what + ": entry " + j + " is " + x[j] + ", masked form "
                    + e[j] + (inexact ? ", bound " + bound : ", expected exactly"));
        }
    }

    /**
     * The SGD form's hook with its L2 term computes what the list {@code [GradMultHook, L2Regularization(l2)]} does
     * and scores the same: on views inside larger buffers, float and double, every kind of block. Equal within one
     * rounding of {@code l2 * W} (ND4J's AVX2 build fuses the {@code Axpy}'s multiply-add; the host pass rounds the
     * product, as the plain x86-64 build does); the Grad Mult part is checked exactly above.
     */
    @Test
    void theL2TermInTheHookIsTheHookThenL2() {
        double l2 = 3e-2;
        for (DataType type : List.of(DataType.DOUBLE, DataType.FLOAT)) {
            for (BlockScales s : blocks()) {
                int n = (int) s.kernelLength();
                INDArray grads = Nd4j.rand(type, 1, 40 + n).subi(0.5);
                INDArray params = Nd4j.rand(type, 1, 13 + n).subi(0.5);
                INDArray w = params.get(NDArrayIndex.point(0), NDArrayIndex.interval(13, 13 + n));
                INDArray fused = grads.dup();
                INDArray listed = grads.dup();
                GradMultHook.sgdWithL2(s, l2).apply(w, fused.get(NDArrayIndex.point(0),
                        NDArrayIndex.interval(40, 40 + n)), 0.1, 0, 0);
                INDArray g = listed.get(NDArrayIndex.point(0), NDArrayIndex.interval(40, 40 + n));
                new GradMultHook(s, GradMult.Form.SGD, ApplyStep.BEFORE_UPDATER).apply(w, g, 0.1, 0, 0);
                new L2Regularization(l2).apply(w, g, 0.1, 0, 0);
                double u = type == DataType.DOUBLE ? Math.ulp(1.0) / 2 : Math.ulp(1.0f) / 2;
                double[] expected = listed.data().asDouble();
                double[] actual = fused.data().asDouble();
                double[] wv = params.data().asDouble();
                for (int j = 0; j < expected.length; j++) {
                    double bound = j < 40 ? 0.0 : 2 * u * (Math.abs(expected[j]) + l2 * Math.abs(wv[j - 40 + 13]));
                    assertTrue(Math.abs(expected[j] - actual[j]) <= bound, s + " " + type + " entry " + j + ": "
                            + actual[j] + " vs " + expected[j] + ", bound " + bound);
                }
                assertEquals(new L2Regularization(l2).score(w, 0, 0), GradMultHook.sgdWithL2(s, l2).score(w, 0, 0),
                        0.0, s + " " + type + " score");
            }
        }
        BlockScales s = blocks().get(0);
        assertEquals(0.0, new GradMultHook(s, GradMult.Form.SGD, ApplyStep.BEFORE_UPDATER).score(Nd4j.ones(3), 0, 0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GradMultHook.sgdWithL2(s, -1));
        assertTrue(e.getMessage().contains(s.block()) && e.getMessage().contains("-1"), e.getMessage());
    }

    /** A configuration saved before the hook carried an L2 term (no {@code "l2"} in its JSON) loads without one. */
    @Test
    void theHookRoundTripsThroughJsonAndOldJsonHasNoL2() throws Exception {
        BlockScales s = blocks().get(1);
        ObjectMapper mapper = NeuralNetConfiguration.mapper();
        GradMultHook withL2 = GradMultHook.sgdWithL2(s, 4e-5);
        String json = mapper.writeValueAsString(withL2);
        assertEquals(withL2, mapper.readValue(json, Regularization.class));
        String old = json.replaceAll(",?\\s*\"l2\"\\s*:\\s*[0-9.Ee-]+", "");
        assertTrue(!old.contains("l2") && !old.equals(json), old);
        assertEquals(new GradMultHook(s, GradMult.Form.SGD, ApplyStep.BEFORE_UPDATER),
                mapper.readValue(old, Regularization.class));
        assertTrue(!withL2.equals(new GradMultHook(s, GradMult.Form.SGD, ApplyStep.BEFORE_UPDATER)));
        assertEquals(withL2, withL2.clone());
    }

    @Test
    void aZeroOrNegativeScaleIsHandled() {
        // s_k[1] = 0: the taps off the centre become 0; AdamW's power 1 keeps a negative scale's sign
        BlockScales s = new BlockScales("odd", 3, 3, 1, new double[]{0.5, 0.0, -1.5}, new double[]{1, 2, -0.25},
                new double[]{1, 1, 1});
        for (GradMult.Form form : GradMult.Form.values()) {
            INDArray g = Nd4j.rand(DataType.DOUBLE, 3, 3, 3, 3).subi(0.5);
            INDArray expected = g.mul(GradMult.create(s, form, DataType.DOUBLE));
            INDArray h = g.dup();
            new GradMultHook(s, form, ApplyStep.BEFORE_UPDATER).apply(null, h, 0.1, 0, 0);
            assertWithinBound(s, form, Math.ulp(1.0) / 2, g, expected, h, "zero and negative scales " + form);
            INDArray offCentre = h.get(NDArrayIndex.point(1), NDArrayIndex.all(), NDArrayIndex.point(0),
                    NDArrayIndex.all());
            assertEquals(0.0, offCentre.amaxNumber().doubleValue(), 0.0);
            // the same inside a larger buffer, as DL4J hands it over
            INDArray layer = Nd4j.zeros(DataType.DOUBLE, 1, 40 + g.length());
            INDArray flat = layer.get(NDArrayIndex.point(0), NDArrayIndex.interval(40, 40 + g.length()));
            flat.assign(g.reshape('c', new long[]{g.length()}));
            new GradMultHook(s, form, ApplyStep.BEFORE_UPDATER).apply(null, flat, 0.1, 0, 0);
            assertEquals(h, layer.get(NDArrayIndex.point(0), NDArrayIndex.interval(40, 40 + g.length()))
                    .reshape('c', new long[]{3, 3, 3, 3}), "flat view at offset 40 " + form);
        }
    }

    @Test
    void aDepthwiseGradientInAnotherLayoutIsRefused() {
        BlockScales s = BlockScales.depthwise("dw", 4, 1, 3, positive(4), positive(4));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new GradMultHook(s,
                GradMult.Form.SGD, ApplyStep.BEFORE_UPDATER).apply(null, Nd4j.rand(DataType.DOUBLE, 4, 1, 3, 3), 0.1, 0, 0));
        assertTrue(e.getMessage().contains("[3, 3, 4, 1]") && e.getMessage().contains("[4, 1, 3, 3]"), e.getMessage());
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
