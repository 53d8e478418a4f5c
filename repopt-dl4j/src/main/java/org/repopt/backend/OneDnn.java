package org.repopt.backend;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.dnnl.dnnl_version_t;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.bytedeco.dnnl.global.dnnl.dnnl_cpu;
import static org.bytedeco.dnnl.global.dnnl.dnnl_engine_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_query;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_impl_info_str;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_default_flags;
import static org.bytedeco.dnnl.global.dnnl.dnnl_success;
import static org.bytedeco.dnnl.global.dnnl.dnnl_version;

/**
 * oneDNN (the JavaCPP preset {@code org.bytedeco:dnnl}) called directly from Java, next to ND4J's own copy inside
 * libnd4j. The preset's libdnnl binds to the OpenMP runtime ND4J already loaded, so both share one thread pool.
 *
 * <p>oneDNN is <em>present</em> when ND4J runs on its CPU backend, the preset's classes and linux-x86_64 natives
 * are on the class path (the default {@code cpu} Maven profile) and a CPU engine can be created; {@link #available()}
 * answers once per process and {@link #unavailableReason()} says why not. Nothing here touches ND4J's or DL4J's
 * global state.
 *
 * <p>What callers must know (measured, see {@code ConvBnReluKernel}): ND4J buffers are only 32-byte aligned, and
 * some oneDNN kernels (Winograd convolution) store with instructions that need 64; every buffer this package
 * allocates for oneDNN is 64-byte aligned ({@link AlignedBuffer}).
 */
public final class OneDnn {

    private static final Logger LOG = LoggerFactory.getLogger(OneDnn.class);

    private static final Object LOCK = new Object();
    private static volatile Boolean available;
    private static volatile String reason;
    private static dnnl_engine engine;
    private static final ThreadLocal<dnnl_stream> STREAM = new ThreadLocal<>();

    private OneDnn() {
    }

    /** @return whether oneDNN can be called directly in this process (see the class comment) */
    public static boolean available() {
        Boolean a = available;
        if (a == null) {
            synchronized (LOCK) {
                if (available == null) {
                    probe();
                }
                a = available;
            }
        }
        return a;
    }

    /** @return why {@link #available()} is false, or {@code null} when it is true */
    public static String unavailableReason() {
        return available() ? null : reason;
    }

    /** @return e.g. {@code oneDNN 2.5.2}, or why oneDNN is not present */
    public static String describe() {
        if (!available()) {
            return "oneDNN not present: " + reason;
        }
        dnnl_version_t v = dnnl_version();
        return "oneDNN " + v.major() + "." + v.minor() + "." + v.patch();
    }

    private static void probe() {
        try {
            if (!OneDnnHelpers.isCpuBackend()) {
                fail("ND4J runs on the " + OneDnnHelpers.backendName() + " backend, oneDNN serves the CPU backend only");
                return;
            }
            Class.forName("org.bytedeco.dnnl.global.dnnl");
            Loader.load(org.bytedeco.dnnl.global.dnnl.class);
            dnnl_engine e = new dnnl_engine();
            check(dnnl_engine_create(e, dnnl_cpu, 0), "dnnl_engine_create");
            engine = e;
            available = true;
            LOG.debug("{} available", describe());
        } catch (ClassNotFoundException | NoClassDefFoundError e) {
            fail("the org.bytedeco:dnnl preset is not on the class path (" + e.getMessage() + ")");
        } catch (UnsatisfiedLinkError | IllegalStateException e) {
            fail("the org.bytedeco:dnnl natives did not load (" + e.getMessage() + "); the linux-x86_64 classifier "
                    + "jars of org.bytedeco:dnnl and org.bytedeco:opencl must be on the class path");
        }
    }

    private static void fail(String why) {
        reason = why;
        available = false;
    }

    /** @return the process-wide CPU engine; only after {@link #available()} answered true */
    static dnnl_engine engine() {
        if (!available()) {
            throw new IllegalStateException("oneDNN is not present: " + reason);
        }
        return engine;
    }

    /** @return this thread's stream on the CPU engine (oneDNN streams are not shared between threads) */
    static dnnl_stream stream() {
        dnnl_stream s = STREAM.get();
        if (s == null) {
            s = new dnnl_stream();
            check(dnnl_stream_create(s, engine(), dnnl_stream_default_flags), "dnnl_stream_create");
            STREAM.set(s);
        }
        return s;
    }

    /**
     * @param status a oneDNN status code
     * @param call   the call that returned it, for the message
     * @throws IllegalStateException unless {@code status} is success
     */
    static void check(int status, String call) {
        if (status != dnnl_success) {
            throw new OneDnnException(call, status);
        }
    }

    /** @return the implementation oneDNN chose for a primitive descriptor, e.g. {@code jit:avx512_core} */
    static String implementation(dnnl_primitive_desc pd) {
        PointerPointer<BytePointer> out = new PointerPointer<>(1);
        check(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, out), "dnnl_primitive_desc_query(impl)");
        return out.get(BytePointer.class, 0).getString();
    }

    /** @return a copy of a memory descriptor a primitive descriptor owns (its pointer dies with the descriptor) */
    static dnnl_memory_desc_t copy(dnnl_memory_desc_t md) {
        dnnl_memory_desc_t c = new dnnl_memory_desc_t();
        Pointer.memcpy(c, md, Loader.sizeof(dnnl_memory_desc_t.class));
        return c;
    }

    /** A oneDNN call that did not succeed: unimplemented, out of memory, invalid arguments, ... */
    public static final class OneDnnException extends IllegalStateException {
        private static final long serialVersionUID = 1L;
        private final int status;

        OneDnnException(String call, int status) {
            super(call + " failed with oneDNN status " + status + " (" + statusName(status) + ")");
            this.status = status;
        }

        /** @return oneDNN's status code */
        public int status() {
            return status;
        }

        private static String statusName(int s) {
            switch (s) {
                case 1: return "out of memory";
                case 2: return "invalid arguments";
                case 3: return "unimplemented";
                case 4: return "iterator ends";
                case 5: return "runtime error";
                case 6: return "not required";
                default: return "unknown";
            }
        }
    }
}
