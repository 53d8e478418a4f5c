package org.repopt.backend;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.dnnl.const_dnnl_op_desc_t;
import org.bytedeco.dnnl.dnnl_batch_normalization_desc_t;
import org.bytedeco.dnnl.dnnl_convolution_desc_t;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SCALE;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SHIFT;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_FROM;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_MEAN;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SCALE;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SHIFT;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_TO;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_VARIANCE;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WORKSPACE;
import static org.bytedeco.dnnl.global.dnnl.dnnl_a;
import static org.bytedeco.dnnl.global.dnnl.dnnl_backward;
import static org.bytedeco.dnnl.global.dnnl.dnnl_batch_normalization_backward_desc_init;
import static org.bytedeco.dnnl.global.dnnl.dnnl_batch_normalization_forward_desc_init;
import static org.bytedeco.dnnl.global.dnnl.dnnl_convolution_backward_data_desc_init;
import static org.bytedeco.dnnl.global.dnnl.dnnl_convolution_backward_weights_desc_init;
import static org.bytedeco.dnnl.global.dnnl.dnnl_convolution_direct;
import static org.bytedeco.dnnl.global.dnnl.dnnl_convolution_forward_desc_init;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_format_tag_any;
import static org.bytedeco.dnnl.global.dnnl.dnnl_forward_inference;
import static org.bytedeco.dnnl.global.dnnl.dnnl_forward_training;
import static org.bytedeco.dnnl.global.dnnl.dnnl_fuse_norm_relu;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_equal;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_get_size;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_init_by_tag;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_set_data_handle;
import static org.bytedeco.dnnl.global.dnnl.dnnl_nchw;
import static org.bytedeco.dnnl.global.dnnl.dnnl_nhwc;
import static org.bytedeco.dnnl.global.dnnl.dnnl_oihw;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_query_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_execute;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_diff_weights_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_exec_arg_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_src_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_weights_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_workspace_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_reorder_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_use_global_stats;
import static org.bytedeco.dnnl.global.dnnl.dnnl_use_scale;
import static org.bytedeco.dnnl.global.dnnl.dnnl_use_shift;

/**
 * One {@code relu(batchnorm(conv(x)))} block computed by oneDNN primitives that are created once per input shape
 * and reused (DL4J's helpers recreate theirs on every call), in float.
 *
 * <p>Layout: activations flow in NHWC. The output and the input gradient are written into NHWC buffers the caller
 * allocates and hands over as {@code [N, C, H, W]}-shaped permuted views, so DL4J sees ordinary NCHW arrays and the
 * next block reads its input without a reorder. Inputs in plain NCHW (the network input, or the output of a DL4J
 * layer) are reordered once per call. The kernel {@code W} stays in DL4J's {@code [out, in, kH, kW]} c-order
 * parameter view and is reordered into the primitives' preferred layout per call; its gradient is reordered back
 * into DL4J's gradient view, so anything attached to DL4J's {@code W} gradient (such as a Grad Mult hook) sees
 * exactly the kernel's gradient.
 *
 * <p>Training: the forward pass keeps the convolution output, the batch mean and variance and the ReLU mask
 * (oneDNN's fused batch-norm-ReLU workspace) in buffers owned by this kernel until the backward pass; oneDNN does
 * not update running statistics, so {@link #batchMean} and {@link #batchVariance} hand the batch statistics to the
 * caller. Buffers that live only inside one call (reordered kernels, the gradient between batch norm and
 * convolution) come from a per-thread scratch arena shared by all kernels of the thread.
 *
 * <p>Every memory handed to a convolution that oneDNN could run with its Winograd algorithm would have to be
 * 64-byte aligned; this kernel asks for the direct algorithm, whose kernels load and store unaligned, and
 * allocates its own buffers 64-byte aligned anyway ({@link AlignedBuffer}).
 *
 * <p>Not thread-safe: one kernel per layer, used by the thread running the layer.
 */
public final class ConvBnReluKernel implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ConvBnReluKernel.class);
    private static final Cleaner CLEANER = Cleaner.create();
    /** Shapes kept at once: training and evaluation batch sizes, plus the last partial batch of each. */
    private static final int MAX_PLANS = 4;
    private static final ThreadLocal<AlignedBuffer[]> SCRATCH = ThreadLocal.withInitial(() -> {
        AlignedBuffer[] b = new AlignedBuffer[Slot.values().length];
        for (int i = 0; i < b.length; i++) {
            b[i] = new AlignedBuffer();
        }
        return b;
    });

    /**
     * What a per-thread scratch buffer holds during one call. Uses that never overlap share a slot: the kernel in a
     * primitive's layout (forward, input gradient), the kernel gradient before its reorder, and the matrix-product
     * kernel all use {@link #KERNEL}; memory is the largest layer's, not the sum over layers.
     */
    enum Slot { X, Y, KERNEL, DY, DZ, PATCHES }

    /**
     * The block's fixed geometry.
     *
     * @param nIn       input channels
     * @param nOut      output channels
     * @param kernelH   kernel height
     * @param kernelW   kernel width
     * @param strideH   vertical stride
     * @param strideW   horizontal stride
     * @param padTop    zero rows above (and, as far as the output size needs, below)
     * @param padLeft   zero columns left (and, as far as the output size needs, right)
     * @param epsilon   batch-norm epsilon
     */
    public record Geometry(int nIn, int nOut, int kernelH, int kernelW, int strideH, int strideW, int padTop,
                           int padLeft, double epsilon) {

        /** @return the padding below that makes {@code outH} rows from {@code h} (oneDNN wants it explicitly) */
        int padBottom(int h, int outH) {
            return (outH - 1) * strideH + kernelH - h - padTop;
        }

        int padRight(int w, int outW) {
            return (outW - 1) * strideW + kernelW - w - padLeft;
        }
    }

    private final Geometry g;
    private final State state;

    /** @param geometry the block */
    public ConvBnReluKernel(Geometry geometry) {
        if (!OneDnn.available()) {
            throw new IllegalStateException("oneDNN is not present: " + OneDnn.unavailableReason());
        }
        this.g = geometry;
        this.state = new State();
        CLEANER.register(this, state);
    }

    /** @return the geometry */
    public Geometry geometry() {
        return g;
    }

    /**
     * Whether this kernel serves an input and an output shape, without creating anything.
     *
     * @param x           the input
     * @param outputShape {@code [N, nOut, OH, OW]}
     * @return {@code null} when it does, else why not
     */
    public String whyNot(INDArray x, long[] outputShape) {
        long[] inputShape = x.shape();
        if (x.dataType() != DataType.FLOAT) {
            return "data type " + x.dataType() + " (oneDNN computes in FLOAT only)";
        }
        if (inputShape.length != 4 || inputShape[1] != g.nIn()) {
            return "input shape " + Arrays.toString(inputShape) + " is not [N, " + g.nIn() + ", H, W]";
        }
        if (layoutTag(x) < 0) {
            return "input strides " + Arrays.toString(x.stride()) + " are neither dense NCHW nor dense NHWC";
        }
        int h = (int) inputShape[2];
        int w = (int) inputShape[3];
        int oh = (int) outputShape[2];
        int ow = (int) outputShape[3];
        if (g.padBottom(h, oh) < 0 || g.padRight(w, ow) < 0) {
            return "the output " + oh + "x" + ow + " of a " + h + "x" + w + " input would need negative padding "
                    + "at the bottom or right, which oneDNN does not take";
        }
        return null;
    }

    /**
     * Training forward pass: {@code z = relu(gamma * (y - mean_B) / sqrt(var_B + eps) + beta)} with
     * {@code y = conv(x, W)} and the batch statistics {@code mean_B, var_B} of {@code y} over (N, H, W).
     *
     * @param x     input {@code [N, nIn, H, W]}, float, NCHW or an NHWC-strided view
     * @param w     kernel {@code [nOut, nIn, kH, kW]}, c order
     * @param gamma {@code nOut} scales, contiguous
     * @param beta  {@code nOut} shifts, contiguous
     * @param z     output {@code [N, nOut, OH, OW]}, an NHWC-strided view the caller allocated
     */
    public void forwardTraining(INDArray x, INDArray w, INDArray gamma, INDArray beta, INDArray z) {
        Plan p = plan(x, z, true);
        p.forward(x, w, gamma, beta, z, null, null);
        keepAlive(x, w, gamma, beta, z);
    }

    /**
     * Inference forward pass with the running statistics.
     *
     * @param mean     running mean, {@code nOut} values, contiguous
     * @param variance running variance, {@code nOut} values, contiguous
     * @see #forwardTraining
     */
    public void forwardInference(INDArray x, INDArray w, INDArray gamma, INDArray beta, INDArray mean,
                                 INDArray variance, INDArray z) {
        Plan p = plan(x, z, false);
        p.forward(x, w, gamma, beta, z, mean, variance);
        keepAlive(x, w, gamma, beta, mean, variance, z);
    }

    /** @return the batch mean of the last training forward pass, {@code nOut} values */
    public float[] batchMean() {
        return lastTraining().mean();
    }

    /** @return the biased batch variance of the last training forward pass, {@code nOut} values */
    public float[] batchVariance() {
        return lastTraining().variance();
    }

    /**
     * Backward pass of the last training forward pass.
     *
     * @param x      the input of that forward pass (still valid: DL4J keeps a layer's input until backprop)
     * @param w      the kernel
     * @param gamma  the scales
     * @param beta   the shifts
     * @param dz     gradient of the output, {@code [N, nOut, OH, OW]}, NCHW or an NHWC-strided view
     * @param dW     receives the kernel gradient, {@code [nOut, nIn, kH, kW]} c order (overwritten)
     * @param dGamma receives the scale gradient (overwritten)
     * @param dBeta  receives the shift gradient (overwritten)
     * @param dx     receives the input gradient, an NHWC-strided view the caller allocated; {@code null} to skip it
     */
    public void backward(INDArray x, INDArray w, INDArray gamma, INDArray beta, INDArray dz, INDArray dW,
                         INDArray dGamma, INDArray dBeta, INDArray dx) {
        Plan p = lastTraining();
        if (x.size(0) != p.n || x.size(2) != p.h || x.size(3) != p.w) {
            throw new IllegalStateException("backward pass for input " + Arrays.toString(x.shape())
                    + ", but the last training forward pass had " + p.n + "x" + g.nIn() + "x" + p.h + "x" + p.w);
        }
        p.backward(x, w, gamma, beta, dz, dW, dGamma, dBeta, dx);
        keepAlive(x, w, gamma, beta, dz, dW, dGamma, dBeta, dx);
    }

    /**
     * Keeps arrays reachable until the primitives that were handed their addresses have run: oneDNN reads and writes
     * them by address, and ND4J frees an array's memory once the array is collected, which the JIT allows after its
     * last use in Java (an argument only this call holds, e.g. a temporary the caller passed inline).
     */
    private static void keepAlive(INDArray... arrays) {
        Reference.reachabilityFence(arrays);
    }

    /**
     * @return the oneDNN implementation of every primitive created so far, e.g.
     * {@code train 64x28x28 conv_fwd=jit:avx512_core}; for profiles and tests
     */
    public Map<String, String> implementations() {
        Map<String, String> out = new LinkedHashMap<>();
        for (Plan p : state.plans) {
            p.prims.forEach((k, v) -> out.put(p.key + " " + k, OneDnn.implementation(v.pd)));
            if (p.backward != null && p.backward.gemmKernelGradient) {
                out.put(p.key + " conv_bwd_weights", "repopt:im2col+dnnl_sgemm");
            }
            if (p.backward != null && p.backward.inputGradient != null && p.backward.inputGradient.useGemm) {
                out.put(p.key + " conv_bwd_data", "repopt:dnnl_sgemm+col2im");
            }
        }
        return out;
    }

    /** Releases every primitive and buffer (also done when the kernel is garbage-collected). */
    @Override
    public void close() {
        state.run();
    }

    private Plan lastTraining() {
        Plan p = state.lastTraining;
        if (p == null) {
            throw new IllegalStateException("no training forward pass ran before this call");
        }
        return p;
    }

    private Plan plan(INDArray x, INDArray z, boolean training) {
        requireFloat(x, "input");
        requireFloat(z, "output");
        String why = whyNot(x, z.shape());
        if (why != null) {
            throw new IllegalArgumentException(why);
        }
        int xTag = layoutTag(x);
        if (layoutTag(z) != dnnl_nhwc) {
            throw new IllegalArgumentException("output must be an NHWC-strided view, got strides "
                    + Arrays.toString(z.stride()));
        }
        int n = (int) x.size(0);
        int h = (int) x.size(2);
        int w = (int) x.size(3);
        String key = (training ? "train " : "infer ") + n + "x" + h + "x" + w + (xTag == dnnl_nhwc ? " nhwc" : " nchw");
        Plan p = null;
        for (Plan q : state.plans) {
            if (q.key.equals(key)) {
                p = q;
                break;
            }
        }
        if (p == null) {
            if (state.plans.size() >= MAX_PLANS) {
                Plan old = state.plans.remove(0);
                if (old == state.lastTraining) {
                    state.lastTraining = null;
                }
                old.close();
            }
            p = new Plan(g, key, n, h, w, (int) z.size(2), (int) z.size(3), xTag, training);
            state.plans.add(p);
        } else {
            state.plans.remove(p);
            state.plans.add(p);
        }
        if (training) {
            state.lastTraining = p;
        }
        return p;
    }

    /**
     * @param a a rank-4 array
     * @return {@code dnnl_nhwc} or {@code dnnl_nchw} when {@code a} is dense in that order (dimensions of size 1
     * place no constraint), else -1
     */
    static int layoutTag(INDArray a) {
        if (a.rank() != 4) {
            return -1;
        }
        long[] s = a.shape();
        long[] st = a.stride();
        if (denseIn(s, st, new int[]{0, 2, 3, 1})) {
            return dnnl_nhwc;
        }
        if (denseIn(s, st, new int[]{0, 1, 2, 3})) {
            return dnnl_nchw;
        }
        return -1;
    }

    /** Whether strides are those of a dense array whose dimensions, outermost first, are {@code order}. */
    private static boolean denseIn(long[] shape, long[] stride, int[] order) {
        long expected = 1;
        for (int i = order.length - 1; i >= 0; i--) {
            int d = order[i];
            if (shape[d] != 1 && stride[d] != expected) {
                return false;
            }
            expected *= shape[d];
        }
        return true;
    }

    private static void requireFloat(INDArray a, String what) {
        if (a.dataType() != DataType.FLOAT) {
            throw new IllegalArgumentException(what + " is " + a.dataType() + "; oneDNN computes in FLOAT only");
        }
    }

    private static void requireContiguous(INDArray a, long length, String what) {
        if (a.length() != length || (a.length() > 1 && a.elementWiseStride() != 1)) {
            throw new IllegalArgumentException(what + " must be " + length + " contiguous values, got shape "
                    + Arrays.toString(a.shape()) + " strides " + Arrays.toString(a.stride()));
        }
        requireFloat(a, what);
    }

    /**
     * @param contiguous a small contiguous float vector (a parameter or gradient view)
     * @return its values, read directly from native memory
     */
    public static float[] values(INDArray contiguous) {
        requireContiguous(contiguous, contiguous.length(), "vector");
        float[] out = new float[(int) contiguous.length()];
        new FloatPointer(new Address(address(contiguous))).get(out);
        Reference.reachabilityFence(contiguous);
        return out;
    }

    /**
     * @param contiguous a small contiguous float vector
     * @param values     what to write into it, as many values as it has
     */
    public static void assign(INDArray contiguous, float[] values) {
        requireContiguous(contiguous, values.length, "vector");
        new FloatPointer(new Address(address(contiguous))).put(values);
        Reference.reachabilityFence(contiguous);
    }

    /** @return the address of an array's first element (ND4J's address pointer already includes a view's offset) */
    static long address(INDArray a) {
        return a.data().addressPointer().address();
    }

    static dnnl_memory_desc_t md(long[] dims, int tag) {
        dnnl_memory_desc_t md = new dnnl_memory_desc_t();
        OneDnn.check(dnnl_memory_desc_init_by_tag(md, dims.length, dims, dnnl_f32, tag), "dnnl_memory_desc_init_by_tag");
        return md;
    }

    private static boolean same(dnnl_memory_desc_t a, dnnl_memory_desc_t b) {
        return dnnl_memory_desc_equal(a, b) == 1;
    }

    private static dnnl_primitive_desc primitiveDesc(Pointer opDesc, dnnl_primitive_desc hint, String what) {
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        OneDnn.check(dnnl_primitive_desc_create(pd, new const_dnnl_op_desc_t(opDesc), null, OneDnn.engine(), hint),
                "dnnl_primitive_desc_create(" + what + ")");
        // the call reads the descriptor through a wrapper that does not own it: keep its owner alive until it returned
        Reference.reachabilityFence(opDesc);
        return pd;
    }

    private static dnnl_memory_desc_t query(dnnl_primitive_desc pd, int what) {
        return OneDnn.copy(dnnl_primitive_desc_query_md(pd, what, 0));
    }

    /** @return this thread's scratch buffer of {@code slot}, at least {@code bytes} long (contents undefined) */
    static long scratch(Slot slot, long bytes) {
        return SCRATCH.get()[slot.ordinal()].address(bytes);
    }

    /** @return a pointer to a given address, to hand to oneDNN */
    static Pointer pointer(long address) {
        return new Address(address);
    }

    /** A pointer to a given address, to hand to oneDNN; movable, to save allocations in loops. */
    static final class Address extends Pointer {
        Address(long address) {
            this.address = address;
        }

        Address at(long a) {
            this.address = a;
            return this;
        }
    }

    /** A oneDNN memory object; its data handle is set before each execution. */
    static final class Mem {
        final dnnl_memory_desc_t md;
        final dnnl_memory mem = new dnnl_memory();
        final long bytes;

        Mem(dnnl_memory_desc_t md) {
            this.md = md;
            OneDnn.check(dnnl_memory_create(mem, md, OneDnn.engine(), null), "dnnl_memory_create");
            this.bytes = dnnl_memory_desc_get_size(md);
        }

        Mem bind(long address) {
            OneDnn.check(dnnl_memory_set_data_handle(mem, new Address(address)), "dnnl_memory_set_data_handle");
            return this;
        }

        void close() {
            dnnl_memory_destroy(mem);
        }
    }

    /** A primitive with its argument list. */
    static final class Prim {
        final String name;
        final dnnl_primitive_desc pd;
        final dnnl_primitive p = new dnnl_primitive();
        private final List<Integer> ids = new ArrayList<>();
        private final List<Mem> mems = new ArrayList<>();
        private dnnl_exec_arg_t args;

        Prim(String name, dnnl_primitive_desc pd) {
            this.name = name;
            this.pd = pd;
            OneDnn.check(dnnl_primitive_create(p, pd), "dnnl_primitive_create");
        }

        /** Adds an argument; its memory must have the layout the primitive descriptor expects for it. */
        Prim arg(int id, Mem m) {
            dnnl_memory_desc_t expected = dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, id);
            if (expected == null || expected.isNull() || !same(expected, m.md)) {
                throw new IllegalStateException(name + ": argument " + id + " has another layout than the primitive "
                        + "expects (" + (expected == null || expected.isNull() ? "none expected" : "mismatch") + ")");
            }
            ids.add(id);
            mems.add(m);
            return this;
        }

        void run() {
            if (args == null) {
                args = new dnnl_exec_arg_t(ids.size());
                for (int i = 0; i < ids.size(); i++) {
                    args.position(i).arg(ids.get(i)).memory(mems.get(i).mem);
                }
                args.position(0);
            }
            OneDnn.check(dnnl_primitive_execute(p, OneDnn.stream(), ids.size(), args), "dnnl_primitive_execute(" + name
                    + ", " + OneDnn.implementation(pd) + ")");
        }

        void close() {
            dnnl_primitive_destroy(p);
            dnnl_primitive_desc_destroy(pd);
        }
    }

    /** A reorder between two layouts of one tensor. */
    static final class Reorder {
        final Mem from;
        final Mem to;
        final Prim prim;

        Reorder(dnnl_memory_desc_t from, dnnl_memory_desc_t to) {
            this.from = new Mem(from);
            this.to = new Mem(to);
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            OneDnn.check(dnnl_reorder_primitive_desc_create(pd, from, OneDnn.engine(), to, OneDnn.engine(), null),
                    "dnnl_reorder_primitive_desc_create");
            this.prim = new Prim("reorder", pd).arg(DNNL_ARG_FROM, this.from).arg(DNNL_ARG_TO, this.to);
        }

        void run(long fromAddress, long toAddress) {
            from.bind(fromAddress);
            to.bind(toAddress);
            prim.run();
        }

        void close() {
            prim.close();
            from.close();
            to.close();
        }
    }

    /** Native objects made for one purpose (a shape's forward or backward pass), released together. */
    private static class Resources {
        private final List<Mem> mems = new ArrayList<>();
        private final List<Prim> prims = new ArrayList<>();
        private final List<Reorder> reorders = new ArrayList<>();

        final Mem mem(dnnl_memory_desc_t md) {
            Mem m = new Mem(md);
            mems.add(m);
            return m;
        }

        final Prim own(Prim p) {
            prims.add(p);
            return p;
        }

        final Reorder reorder(dnnl_memory_desc_t from, dnnl_memory_desc_t to) {
            Reorder r = new Reorder(from, to);
            reorders.add(r);
            return r;
        }

        void release() {
            prims.forEach(Prim::close);
            reorders.forEach(Reorder::close);
            mems.forEach(Mem::close);
        }
    }

    /**
     * Everything that holds native resources, separate from the kernel so the cleaner can release it: nothing in it
     * may refer to the kernel (hence the static plan classes), or the kernel would never become unreachable.
     */
    private static final class State implements Runnable {
        final List<Plan> plans = new ArrayList<>();
        Plan lastTraining;

        @Override
        public void run() {
            plans.forEach(Plan::close);
            plans.clear();
            lastTraining = null;
        }
    }

    /** The primitives and buffers of one input shape and mode. */
    private static final class Plan extends Resources {
        final Geometry g;
        final String key;
        final int n;
        final int h;
        final int w;
        final boolean training;
        /** Every primitive of this shape by name, the backward ones included (for {@link #implementations()}). */
        final Map<String, Prim> prims = new LinkedHashMap<>();
        private final List<AlignedBuffer> owned = new ArrayList<>();

        // forward
        /** The geometry and shape, for the implementation tuner. */
        final String shapeKey;
        final long[] xDims;
        final long[] yDims;
        final long[] wDims;
        final long[] stride;
        final long[] padL;
        final long[] padR;
        final dnnl_memory_desc_t xUserMd;
        final dnnl_memory_desc_t srcMd;
        final dnnl_memory_desc_t dstMd;
        final dnnl_memory_desc_t wUserMd;
        final dnnl_primitive_desc convPd;
        final Mem src;
        final Mem weights;
        final Mem y;
        final Prim conv;
        final Reorder xReorder;
        final Reorder wReorder;
        final Mem bnSrc;
        final Mem bnDst;
        final Mem mean;
        final Mem variance;
        final Mem scale;
        final Mem shift;
        final Mem workspace;
        final dnnl_primitive_desc bnPd;
        final Prim bn;
        final AlignedBuffer xCopy;
        final AlignedBuffer yBuffer;
        final AlignedBuffer meanBuffer;
        final AlignedBuffer varianceBuffer;
        final AlignedBuffer workspaceBuffer;
        final float[] hostStats;

        // backward, created on first use
        private Backward backward;

        Plan(Geometry g, String key, int n, int h, int w, int oh, int ow, int xTag, boolean training) {
            this.g = g;
            this.key = key;
            this.n = n;
            this.h = h;
            this.w = w;
            this.training = training;
            try {
                stride = new long[]{g.strideH(), g.strideW()};
                padL = new long[]{g.padTop(), g.padLeft()};
                padR = new long[]{g.padBottom(h, oh), g.padRight(w, ow)};
                xDims = new long[]{n, g.nIn(), h, w};
                yDims = new long[]{n, g.nOut(), oh, ow};
                wDims = new long[]{g.nOut(), g.nIn(), g.kernelH(), g.kernelW()};
                long[] cDims = {g.nOut()};
                xUserMd = md(xDims, xTag);
                srcMd = md(xDims, dnnl_nhwc);
                dstMd = md(yDims, dnnl_nhwc);
                wUserMd = md(wDims, dnnl_oihw);

                dnnl_convolution_desc_t cd = new dnnl_convolution_desc_t();
                OneDnn.check(dnnl_convolution_forward_desc_init(cd, training ? dnnl_forward_training
                                : dnnl_forward_inference, dnnl_convolution_direct, srcMd, md(wDims, dnnl_format_tag_any),
                        null, dstMd, stride, padL, padR), "dnnl_convolution_forward_desc_init");
                shapeKey = g + " " + n + "x" + h + "x" + w + "->" + oh + "x" + ow + " nhwc";
                convPd = ImplementationTuner.fastest("conv_fwd " + (training ? "train " : "infer ") + shapeKey, cd,
                        null, new int[]{DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST});
                dnnl_memory_desc_t wMd = query(convPd, dnnl_query_weights_md);
                src = mem(srcMd);
                weights = mem(wMd);
                y = mem(dstMd);
                conv = prim("conv_fwd", new Prim("conv_fwd", convPd).arg(DNNL_ARG_SRC, src).arg(DNNL_ARG_WEIGHTS, weights)
                        .arg(DNNL_ARG_DST, y));
                xReorder = same(xUserMd, srcMd) ? null : reorder(xUserMd, srcMd);
                wReorder = same(wUserMd, wMd) ? null : reorder(wUserMd, wMd);
                // The input in the convolution's layout is needed again by the weight gradient.
                xCopy = xReorder != null && training ? buffer() : null;
                yBuffer = training ? buffer() : null;

                int flags = dnnl_use_scale | dnnl_use_shift | dnnl_fuse_norm_relu
                        | (training ? 0 : dnnl_use_global_stats);
                dnnl_batch_normalization_desc_t bd = new dnnl_batch_normalization_desc_t();
                OneDnn.check(dnnl_batch_normalization_forward_desc_init(bd, training ? dnnl_forward_training
                        : dnnl_forward_inference, dstMd, (float) g.epsilon(), flags),
                        "dnnl_batch_normalization_forward_desc_init");
                bnPd = primitiveDesc(bd, null, "batch normalization forward");
                dnnl_memory_desc_t vec = md(cDims, dnnl_a);
                bnSrc = mem(dstMd);
                bnDst = mem(dstMd);
                mean = mem(vec);
                variance = mem(vec);
                scale = mem(vec);
                shift = mem(vec);
                Prim b = new Prim("bn_fwd", bnPd).arg(DNNL_ARG_SRC, bnSrc).arg(DNNL_ARG_DST, bnDst).arg(DNNL_ARG_MEAN, mean)
                        .arg(DNNL_ARG_VARIANCE, variance).arg(DNNL_ARG_SCALE, scale).arg(DNNL_ARG_SHIFT, shift);
                if (training) {
                    workspace = mem(query(bnPd, dnnl_query_workspace_md));
                    b.arg(DNNL_ARG_WORKSPACE, workspace);
                    meanBuffer = buffer();
                    varianceBuffer = buffer();
                    workspaceBuffer = buffer();
                } else {
                    workspace = null;
                    meanBuffer = null;
                    varianceBuffer = buffer();
                    workspaceBuffer = null;
                }
                bn = prim("bn_fwd", b);
                hostStats = new float[g.nOut()];
                if (LOG.isDebugEnabled()) {
                    LOG.debug("{} {}: conv {}, batch norm {}", g, key, OneDnn.implementation(convPd),
                            OneDnn.implementation(bnPd));
                }
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        private Prim prim(String name, Prim p) {
            prims.put(name, p);
            return own(p);
        }

        private AlignedBuffer buffer() {
            AlignedBuffer b = new AlignedBuffer();
            owned.add(b);
            return b;
        }

        void forward(INDArray x, INDArray wArr, INDArray gamma, INDArray beta, INDArray z, INDArray runningMean,
                     INDArray runningVariance) {
            requireContiguous(wArr, (long) g.nOut() * g.nIn() * g.kernelH() * g.kernelW(), "W");
            requireContiguous(gamma, g.nOut(), "gamma");
            requireContiguous(beta, g.nOut(), "beta");
            long xAddr = address(x);
            if (xReorder != null) {
                long to = training ? xCopy.address(src.bytes) : scratch(Slot.X, src.bytes);
                xReorder.run(xAddr, to);
                src.bind(to);
            } else {
                src.bind(xAddr);
            }
            bindWeights(wArr, wReorder, weights, Slot.KERNEL);
            long yAddr = training ? yBuffer.address(y.bytes) : scratch(Slot.Y, y.bytes);
            y.bind(yAddr);
            conv.run();

            bnSrc.bind(yAddr);
            bnDst.bind(address(z));
            scale.bind(address(gamma));
            shift.bind(address(beta));
            if (training) {
                mean.bind(meanBuffer.address(mean.bytes));
                variance.bind(varianceBuffer.address(variance.bytes));
                workspace.bind(workspaceBuffer.address(workspace.bytes));
            } else {
                requireContiguous(runningMean, g.nOut(), "running mean");
                requireContiguous(runningVariance, g.nOut(), "running variance");
                mean.bind(address(runningMean));
                variance.bind(address(runningVariance));
            }
            bn.run();
        }

        private void bindWeights(INDArray wArr, Reorder r, Mem target, Slot slot) {
            if (r != null) {
                long to = scratch(slot, target.bytes);
                r.run(address(wArr), to);
                target.bind(to);
            } else {
                target.bind(address(wArr));
            }
        }

        float[] mean() {
            new FloatPointer(new Address(meanBuffer.address(mean.bytes))).get(hostStats);
            return hostStats.clone();
        }

        float[] variance() {
            new FloatPointer(new Address(varianceBuffer.address(variance.bytes))).get(hostStats);
            return hostStats.clone();
        }

        void backward(INDArray x, INDArray wArr, INDArray gamma, INDArray beta, INDArray dz, INDArray dW,
                      INDArray dGamma, INDArray dBeta, INDArray dx) {
            requireFloat(dz, "output gradient");
            if (!Arrays.equals(dz.shape(), yDims)) {
                throw new IllegalArgumentException("output gradient shape " + Arrays.toString(dz.shape())
                        + " differs from the forward output " + Arrays.toString(yDims));
            }
            requireContiguous(dW, (long) g.nOut() * g.nIn() * g.kernelH() * g.kernelW(), "dW");
            requireContiguous(dGamma, g.nOut(), "dGamma");
            requireContiguous(dBeta, g.nOut(), "dBeta");
            if (dx != null && layoutTag(dx) != dnnl_nhwc) {
                throw new IllegalArgumentException("input gradient must be an NHWC-strided view");
            }
            if (backward == null) {
                backward = new Backward(this);
            }
            backward.run(x, wArr, gamma, beta, dz, dW, dGamma, dBeta, dx);
        }

        void close() {
            if (backward != null) {
                backward.close();
            }
            release();
            owned.forEach(AlignedBuffer::close);
        }
    }

    /** The backward primitives of one training plan, created with the forward ones as hints. */
    private static final class Backward extends Resources {
        private final Plan f;
        private final Mem bnSrc;
        private final Mem bnMean;
        private final Mem bnVariance;
        private final Mem bnScale;
        private final Mem bnShift;
        private final Mem bnWorkspace;
        private final Mem bnDiffDst;
        private final Mem bnDiffSrc;
        private final Mem bnDiffScale;
        private final Mem bnDiffShift;
        private final Prim bn;
        private final Mem wSrc;
        private final Mem wDiffDst;
        private final Mem wDiffWeights;
        private final Prim convWeights;
        private final Reorder diffWeightsReorder;
        /** Batch-wide matrix-product gradients (small maps only; {@code null} elsewhere). */
        private final GemmConvolution gemm;
        private final boolean gemmKernelGradient;
        /** The input-gradient primitives, made on the first call that wants the input gradient. */
        private InputGradient inputGradient;
        private final Map<Integer, Reorder> dzReorders = new LinkedHashMap<>();

        Backward(Plan f) {
            this.f = f;
            try {
                long[] wDims = f.wDims;
                int flags = dnnl_use_scale | dnnl_use_shift | dnnl_fuse_norm_relu;
                dnnl_batch_normalization_desc_t bd = new dnnl_batch_normalization_desc_t();
                OneDnn.check(dnnl_batch_normalization_backward_desc_init(bd, dnnl_backward, f.dstMd, f.dstMd,
                        (float) f.g.epsilon(), flags), "dnnl_batch_normalization_backward_desc_init");
                dnnl_primitive_desc bnPd = primitiveDesc(bd, f.bnPd, "batch normalization backward");
                dnnl_memory_desc_t vec = md(new long[]{f.g.nOut()}, dnnl_a);
                bnSrc = mem(f.dstMd);
                bnMean = mem(vec);
                bnVariance = mem(vec);
                bnScale = mem(vec);
                bnShift = mem(vec);
                bnWorkspace = mem(query(f.bnPd, dnnl_query_workspace_md));
                bnDiffDst = mem(f.dstMd);
                bnDiffSrc = mem(f.dstMd);
                bnDiffScale = mem(vec);
                bnDiffShift = mem(vec);
                bn = prim("bn_bwd", new Prim("bn_bwd", bnPd).arg(DNNL_ARG_SRC, bnSrc).arg(DNNL_ARG_MEAN, bnMean)
                        .arg(DNNL_ARG_VARIANCE, bnVariance).arg(DNNL_ARG_SCALE, bnScale)
                        .arg(DNNL_ARG_SHIFT, bnShift).arg(DNNL_ARG_WORKSPACE, bnWorkspace).arg(DNNL_ARG_DIFF_DST, bnDiffDst)
                        .arg(DNNL_ARG_DIFF_SRC, bnDiffSrc).arg(DNNL_ARG_DIFF_SCALE, bnDiffScale)
                        .arg(DNNL_ARG_DIFF_SHIFT, bnDiffShift));

                dnnl_convolution_desc_t wd = new dnnl_convolution_desc_t();
                OneDnn.check(dnnl_convolution_backward_weights_desc_init(wd, dnnl_convolution_direct, f.srcMd,
                        md(wDims, dnnl_format_tag_any), null, f.dstMd, f.stride, f.padL, f.padR),
                        "dnnl_convolution_backward_weights_desc_init");
                dnnl_primitive_desc wPd = ImplementationTuner.fastest("conv_bwd_weights " + f.shapeKey, wd, f.convPd,
                        new int[]{DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS});
                dnnl_memory_desc_t diffWMd = query(wPd, dnnl_query_diff_weights_md);
                wSrc = mem(query(wPd, dnnl_query_src_md));
                wDiffDst = mem(f.dstMd);
                wDiffWeights = mem(diffWMd);
                convWeights = prim("conv_bwd_weights", new Prim("conv_bwd_weights", wPd).arg(DNNL_ARG_SRC, wSrc)
                        .arg(DNNL_ARG_DIFF_DST, wDiffDst).arg(DNNL_ARG_DIFF_WEIGHTS, wDiffWeights));
                if (!same(wSrc.md, f.srcMd)) {
                    throw new IllegalStateException("the weight-gradient primitive wants another input layout than "
                            + "the forward one");
                }
                diffWeightsReorder = same(diffWMd, f.wUserMd) ? null : reorder(diffWMd, f.wUserMd);

                int oh = (int) f.yDims[2];
                int ow = (int) f.yDims[3];
                gemm = GemmConvolution.eligible(oh, ow) ? new GemmConvolution(f.g, f.n, f.h, f.w, oh, ow) : null;
                gemmKernelGradient = gemm != null && ImplementationTuner.oursIsFaster("conv_bwd_weights "
                        + f.shapeKey, () -> ImplementationTuner.time(wPd, new int[]{DNNL_ARG_SRC, DNNL_ARG_DIFF_DST,
                                DNNL_ARG_DIFF_WEIGHTS}) + (diffWeightsReorder == null ? 0 : ImplementationTuner.time(
                                diffWeightsReorder.prim.pd, new int[]{DNNL_ARG_FROM, DNNL_ARG_TO})),
                        () -> gemm.time(false));
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        private Prim prim(String name, Prim p) {
            f.prims.put(name, p);
            return own(p);
        }

        void run(INDArray x, INDArray wArr, INDArray gamma, INDArray beta, INDArray dz, INDArray dW, INDArray dGamma,
                 INDArray dBeta, INDArray dx) {
            int dzTag = layoutTag(dz);
            INDArray dzDense = dzTag < 0 ? dz.dup('c') : dz;
            long dzAddr = address(dzDense);
            if (dzTag != dnnl_nhwc) {
                int tag = dzTag < 0 ? dnnl_nchw : dzTag;
                Reorder r = dzReorders.computeIfAbsent(tag,
                        t -> reorder(md(f.yDims, t), f.dstMd));
                long to = scratch(Slot.DZ, bnDiffDst.bytes);
                r.run(dzAddr, to);
                dzAddr = to;
            }
            long yAddr = f.yBuffer.address(f.y.bytes);
            long dyAddr = scratch(Slot.DY, bnDiffSrc.bytes);
            bnSrc.bind(yAddr);
            bnMean.bind(f.meanBuffer.address(bnMean.bytes));
            bnVariance.bind(f.varianceBuffer.address(bnVariance.bytes));
            bnScale.bind(address(gamma));
            bnShift.bind(address(beta));
            bnWorkspace.bind(f.workspaceBuffer.address(bnWorkspace.bytes));
            bnDiffDst.bind(dzAddr);
            bnDiffSrc.bind(dyAddr);
            bnDiffScale.bind(address(dGamma));
            bnDiffShift.bind(address(dBeta));
            bn.run();
            Reference.reachabilityFence(dzDense);   // a copy only this frame holds: oneDNN read it by address

            long xNhwc = f.xReorder != null ? f.xCopy.address(f.src.bytes) : address(x);
            if (gemmKernelGradient) {
                gemm.kernelGradient(xNhwc, dyAddr, address(dW));
            } else if (diffWeightsReorder != null) {
                wSrc.bind(xNhwc);
                wDiffDst.bind(dyAddr);
                long tmp = scratch(Slot.KERNEL, wDiffWeights.bytes);
                wDiffWeights.bind(tmp);
                convWeights.run();
                diffWeightsReorder.run(tmp, address(dW));
            } else {
                wSrc.bind(xNhwc);
                wDiffDst.bind(dyAddr);
                wDiffWeights.bind(address(dW));
                convWeights.run();
            }

            if (dx != null) {
                if (inputGradient == null) {
                    inputGradient = new InputGradient();
                }
                inputGradient.run(wArr, dyAddr, dx);
            }
        }

        void close() {
            release();
            if (gemm != null) {
                gemm.close();
            }
        }

        /** The input gradient: oneDNN's fastest primitive or, on small maps where it wins, the matrix product. */
        private final class InputGradient {
            private final Mem diffSrc;
            private final Mem weights;
            private final Mem diffDst;
            private final Prim conv;
            private final Reorder weightsReorder;
            private final boolean useGemm;

            InputGradient() {
                dnnl_convolution_desc_t dd = new dnnl_convolution_desc_t();
                OneDnn.check(dnnl_convolution_backward_data_desc_init(dd, dnnl_convolution_direct, f.srcMd,
                        md(f.wDims, dnnl_format_tag_any), f.dstMd, f.stride, f.padL, f.padR),
                        "dnnl_convolution_backward_data_desc_init");
                dnnl_primitive_desc dPd = ImplementationTuner.fastest("conv_bwd_data " + f.shapeKey, dd, f.convPd,
                        new int[]{DNNL_ARG_DIFF_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_DST});
                dnnl_memory_desc_t wMd = query(dPd, dnnl_query_weights_md);
                diffSrc = mem(f.srcMd);
                weights = mem(wMd);
                diffDst = mem(f.dstMd);
                conv = prim("conv_bwd_data", new Prim("conv_bwd_data", dPd).arg(DNNL_ARG_DIFF_SRC, diffSrc)
                        .arg(DNNL_ARG_WEIGHTS, weights).arg(DNNL_ARG_DIFF_DST, diffDst));
                weightsReorder = same(f.wUserMd, wMd) ? null : reorder(f.wUserMd, wMd);
                useGemm = gemm != null && ImplementationTuner.oursIsFaster("conv_bwd_data " + f.shapeKey,
                        () -> ImplementationTuner.time(dPd, new int[]{DNNL_ARG_DIFF_SRC, DNNL_ARG_WEIGHTS,
                                DNNL_ARG_DIFF_DST}) + (weightsReorder == null ? 0 : ImplementationTuner.time(
                                weightsReorder.prim.pd, new int[]{DNNL_ARG_FROM, DNNL_ARG_TO})),
                        () -> gemm.time(true));
            }

            void run(INDArray wArr, long dyAddr, INDArray dx) {
                if (useGemm) {
                    gemm.inputGradient(address(wArr), dyAddr, address(dx));
                    return;
                }
                f.bindWeights(wArr, weightsReorder, weights, Slot.KERNEL);
                diffDst.bind(dyAddr);
                diffSrc.bind(address(dx));
                conv.run();
            }
        }
    }
}
