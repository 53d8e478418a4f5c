package org.repopt.backend;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.dnnl.const_dnnl_op_desc_t;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_primitive_desc_iterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.DoubleSupplier;

import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_get_size;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_iterator_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_iterator_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_iterator_fetch;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_iterator_next;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_query_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_execute;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_exec_arg_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_success;

/**
 * Picks, for one operation on one shape, the fastest of oneDNN's implementations by running each once.
 *
 * <p>Why: oneDNN's own first choice is often not the fastest here. Measured on the project's 2-core AVX-512
 * machine, one thread: for NHWC convolutions its first choice {@code brgconv:avx512_core} took 51 ms where
 * {@code jit:avx512_common} took 14 ms (forward, 32x512 channels at 2x2), 32 vs 15 ms (256 channels at 4x4) and 18 vs
 * 9 ms (64x32 channels at 14x14). Reference implementations are never candidates.
 *
 * <p>Each candidate runs once to warm up and twice timed on zero-filled scratch memory (the minimum counts); the
 * choice is remembered per operation and shape for the life of the process, so identical layers (RepOpt-VGG-B1 has
 * 15 blocks of 512 channels at 2x2) and later batches of the same size pay nothing.
 *
 * <p>One thread tunes at a time (Spark workers or replicas in one process make their plans at once): oneDNN 2.5 crashed
 * the JVM here when several threads timed candidate implementations at the same time (malloc heap corruption or a
 * SIGSEGV in {@code dnnl_primitive_create}, within a minute with 8 threads; never with one tuning thread or without
 * tuning), and one decision per key also makes every network in a process compute a shape the same way; timings taken
 * side by side would also measure each other.
 *
 * <p>Implementations round differently, and a choice by timing can differ between processes on a busy machine: two
 * runs of the same seed then agree to rounding, not bit for bit. Set {@code -Drepopt.onednn.tune=false} to take
 * oneDNN's first choice instead (the same in every process on the same CPU).
 */
final class ImplementationTuner {

    private static final Logger LOG = LoggerFactory.getLogger(ImplementationTuner.class);
    private static final boolean TUNE = !"false".equalsIgnoreCase(System.getProperty("repopt.onednn.tune"));
    private static final Map<String, String> CHOSEN = new ConcurrentHashMap<>();
    private static final Map<String, Boolean> PREFER_OURS = new ConcurrentHashMap<>();

    private ImplementationTuner() {
    }

    /**
     * @param key    the operation and shape, e.g. {@code conv_fwd 32x512x2x2 -> 512 ...}; equal keys must describe
     *               equal operations
     * @param opDesc the operation descriptor
     * @param hint   the forward primitive descriptor a backward operation needs, or {@code null}
     * @param args   the execution arguments of the operation
     * @return the primitive descriptor of the fastest implementation (the caller destroys it)
     * @throws OneDnn.OneDnnException when oneDNN has no implementation at all
     */
    static synchronized dnnl_primitive_desc fastest(String key, Pointer opDesc, dnnl_primitive_desc hint, int[] args) {
        dnnl_primitive_desc_iterator it = new dnnl_primitive_desc_iterator();
        OneDnn.check(dnnl_primitive_desc_iterator_create(it, new const_dnnl_op_desc_t(opDesc), null, OneDnn.engine(),
                hint), "dnnl_primitive_desc_iterator_create(" + key + ")");
        String known = TUNE ? CHOSEN.get(key) : null;
        dnnl_primitive_desc best = null;
        dnnl_primitive_desc reference = null;
        String bestName = null;
        double bestMs = Double.MAX_VALUE;
        StringBuilder timings = new StringBuilder();
        try {
            do {
                dnnl_primitive_desc pd = dnnl_primitive_desc_iterator_fetch(it);
                if (pd == null || pd.isNull()) {
                    continue;
                }
                String impl = OneDnn.implementation(pd);
                if (impl.startsWith("ref")) {
                    // Only when nothing else exists.
                    if (reference == null) {
                        reference = pd;
                    } else {
                        dnnl_primitive_desc_destroy(pd);
                    }
                    continue;
                }
                if (!TUNE || impl.equals(known)) {
                    best = pd;
                    bestName = impl;
                    break;
                }
                if (known != null) {
                    dnnl_primitive_desc_destroy(pd);
                    continue;
                }
                double ms = time(pd, args);
                timings.append(impl).append(String.format(" %.2f ms; ", ms));
                if (ms < bestMs || best == null) {
                    if (best != null) {
                        dnnl_primitive_desc_destroy(best);
                    }
                    best = pd;
                    bestName = impl;
                    bestMs = ms;
                } else {
                    dnnl_primitive_desc_destroy(pd);
                }
            } while (dnnl_primitive_desc_iterator_next(it) == dnnl_success);
        } finally {
            dnnl_primitive_desc_iterator_destroy(it);
            // the iterator reads the operation descriptor through a raw pointer at every step; the Java object owns
            // that memory (JavaCPP frees it once the object is collected), so it must stay reachable until here
            Reference.reachabilityFence(opDesc);
        }
        if (best == null && reference != null) {
            best = reference;
            bestName = "ref";
        } else if (reference != null) {
            dnnl_primitive_desc_destroy(reference);
        }
        if (best == null) {
            throw new OneDnn.OneDnnException("no implementation of " + key, 3);
        }
        if (TUNE && known == null) {
            CHOSEN.put(key, bestName);
            LOG.debug("{}: {} chosen from {}", key, bestName, timings);
        }
        return best;
    }

    /**
     * Decides, once per key, between oneDNN's fastest implementation of an operation and this project's own, by
     * timing both.
     *
     * @param key     the operation and shape
     * @param oneDnn  times oneDNN's implementation (milliseconds)
     * @param ours    times this project's implementation (milliseconds)
     * @return whether ours is faster (always false with {@code -Drepopt.onednn.tune=false})
     */
    static synchronized boolean oursIsFaster(String key, DoubleSupplier oneDnn, DoubleSupplier ours) {
        if (!TUNE) {
            return false;
        }
        return PREFER_OURS.computeIfAbsent(key, k -> {
            double a = oneDnn.getAsDouble();
            double b = ours.getAsDouble();
            LOG.debug("{}: oneDNN {} ms, ours {} ms", k, a, b);
            return b < a;
        });
    }

    /** @return the faster of two timed runs after a warm-up, in milliseconds, on zero-filled scratch memory */
    static double time(dnnl_primitive_desc pd, int[] args) {
        dnnl_primitive p = new dnnl_primitive();
        List<dnnl_memory> mems = new ArrayList<>();
        List<AlignedBuffer> buffers = new ArrayList<>();
        try {
            OneDnn.check(dnnl_primitive_create(p, pd), "dnnl_primitive_create");
            dnnl_exec_arg_t ea = new dnnl_exec_arg_t(args.length);
            for (int i = 0; i < args.length; i++) {
                dnnl_memory_desc_t md = dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, args[i]);
                long bytes = Math.max(dnnl_memory_desc_get_size(md), AlignedBuffer.ALIGNMENT);
                AlignedBuffer b = new AlignedBuffer();
                buffers.add(b);
                Pointer at = ConvBnReluKernel.pointer(b.address(bytes));
                Pointer.memset(at, 0, bytes);
                dnnl_memory m = new dnnl_memory();
                OneDnn.check(dnnl_memory_create(m, md, OneDnn.engine(), at), "dnnl_memory_create");
                mems.add(m);
                ea.position(i).arg(args[i]).memory(m);
            }
            ea.position(0);
            double best = Double.MAX_VALUE;
            for (int run = 0; run < 3; run++) {
                long t0 = System.nanoTime();
                OneDnn.check(dnnl_primitive_execute(p, OneDnn.stream(), args.length, ea), "dnnl_primitive_execute");
                if (run > 0) {
                    best = Math.min(best, (System.nanoTime() - t0) / 1e6);
                }
            }
            return best;
        } catch (OneDnn.OneDnnException e) {
            return Double.MAX_VALUE;
        } finally {
            if (!p.isNull()) {
                dnnl_primitive_destroy(p);
            }
            mems.forEach(m -> dnnl_memory_destroy(m));
            buffers.forEach(AlignedBuffer::close);
        }
    }
}
