package org.repopt.data;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The daemon threads of the data pipeline: one pool that builds the next batch ahead of the consumer, one that
 * decodes a batch's images in parallel. Separate pools, so a batch builder waiting for its decoders can never
 * starve them. Daemon threads, so an abandoned iterator never keeps the JVM alive.
 */
final class DataThreads {

    /** Builds batches ahead; a cached pool, since each live iterator keeps at most one build in flight. */
    static final ExecutorService PREFETCH = Executors.newCachedThreadPool(daemon("repopt-data-prefetch-"));

    /** Decodes images; one thread per core, since decoding is CPU-bound. */
    static final ExecutorService DECODE = Executors.newFixedThreadPool(
            Runtime.getRuntime().availableProcessors(), daemon("repopt-data-decode-"));

    private DataThreads() {
    }

    private static ThreadFactory daemon(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
