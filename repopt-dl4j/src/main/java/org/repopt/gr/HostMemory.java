package org.repopt.gr;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.ref.Reference;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * Java passes over ND4J's host memory (the CPU backend's buffers), for the update steps that ND4J would run as several
 * native passes: the Grad Mult ({@link GradMultHook}) and the SGD step ({@link TorchSgd}). A pass copies a stretch of
 * the buffer into a reused per-thread array, computes in a loop the JIT vectorizes, and copies it back; long arrays
 * are split over the common fork-join pool (ND4J's own threads are idle while the updater runs Java code).
 *
 * <p>Why relative bulk copies on a duplicate, not {@code FloatBuffer.get(int index, float[] ...)}: on Java 17 the
 * absolute bulk methods of a direct buffer copy element by element (in a short microbenchmark a 512x512x3x3 Grad Mult
 * pass took 5-6 ms with them, 1.1 ms with the relative ones, which are one {@code memcpy}; in a warmed-up training
 * step the JIT had closed that gap: all of B1's hooks took 24 vs 29 ms a step, noise). The relative methods move the
 * position, so each copy works on its own duplicate: threads share one buffer.
 */
final class HostMemory {

    /** Whether arrays live in host memory that Java may address directly (ND4J's CPU backend; not CUDA). */
    static final boolean AVAILABLE = Nd4j.getBackend().getClass().getSimpleName().startsWith("Cpu");

    /** Passes over this many values or more are split over several threads. */
    static final int PARALLEL_FROM = 1 << 18;

    /** Per-thread scratch arrays, reused (fresh ones would be hundreds of MB of garbage per step at B1 widths). */
    private static final int SLOTS = 2;
    private static final ThreadLocal<float[][]> FLOATS = ThreadLocal.withInitial(() -> new float[SLOTS][0]);
    private static final ThreadLocal<double[][]> DOUBLES = ThreadLocal.withInitial(() -> new double[SLOTS][0]);

    private HostMemory() {
    }

    /**
     * @return whether {@code a} can take part in a Java pass: host memory, float or double, its values contiguous
     *     (element-wise stride 1) and int-indexable
     */
    static boolean addressable(INDArray a) {
        DataType t = a.dataType();
        return AVAILABLE && (t == DataType.FLOAT || t == DataType.DOUBLE) && a.elementWiseStride() == 1
                && a.offset() + a.length() <= Integer.MAX_VALUE;
    }

    /**
     * Keeps arrays reachable until a pass over their memory has ended: the NIO views of {@link #floats} and
     * {@link #doubles} do not own the memory, and ND4J frees a buffer once its array is collected. Call it after the
     * pass with the arrays it read or wrote.
     */
    static void keepAlive(INDArray a, INDArray b) {
        Reference.reachabilityFence(a);
        Reference.reachabilityFence(b);
    }

    /** @return a float view of {@code a}'s whole buffer (index {@code a.offset()} is {@code a}'s first value) */
    static FloatBuffer floats(INDArray a) {
        return a.data().asNioFloat();
    }

    /** @return a double view of {@code a}'s whole buffer (index {@code a.offset()} is {@code a}'s first value) */
    static DoubleBuffer doubles(INDArray a) {
        return a.data().asNioDouble();
    }

    /** @return this thread's scratch array number {@code slot} (0 or 1), at least {@code length} long */
    static float[] floatScratch(int slot, int length) {
        float[][] s = FLOATS.get();
        if (s[slot].length < length) {
            s[slot] = new float[length];
        }
        return s[slot];
    }

    /** @return this thread's scratch array number {@code slot} (0 or 1), at least {@code length} long */
    static double[] doubleScratch(int slot, int length) {
        double[][] s = DOUBLES.get();
        if (s[slot].length < length) {
            s[slot] = new double[length];
        }
        return s[slot];
    }

    /** Copies {@code length} values at index {@code at} of {@code from} into {@code to[0..length)}. */
    static void read(FloatBuffer from, int at, float[] to, int length) {
        from.duplicate().position(at).get(to, 0, length);
    }

    /** Copies {@code from[0..length)} to index {@code at} of {@code to}. */
    static void write(FloatBuffer to, int at, float[] from, int length) {
        to.duplicate().position(at).put(from, 0, length);
    }

    /** Copies {@code length} values at index {@code at} of {@code from} into {@code to[0..length)}. */
    static void read(DoubleBuffer from, int at, double[] to, int length) {
        from.duplicate().position(at).get(to, 0, length);
    }

    /** Copies {@code from[0..length)} to index {@code at} of {@code to}. */
    static void write(DoubleBuffer to, int at, double[] from, int length) {
        to.duplicate().position(at).put(from, 0, length);
    }

    /**
     * Runs {@code task} for {@code 0..count-1}, over several threads where the pass covers {@link #PARALLEL_FROM}
     * values or more. Tasks must touch disjoint memory.
     *
     * @param values how many values the whole pass touches
     */
    static void forEach(int count, long values, IntConsumer task) {
        if (values >= PARALLEL_FROM && count > 1) {
            IntStream.range(0, count).parallel().forEach(task);
        } else {
            for (int i = 0; i < count; i++) {
                task.accept(i);
            }
        }
    }
}
