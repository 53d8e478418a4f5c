package org.repopt.backend;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

import java.nio.FloatBuffer;

import static org.bytedeco.dnnl.global.dnnl.dnnl_ohwi;
import static org.bytedeco.dnnl.global.dnnl.dnnl_oihw;
import static org.bytedeco.dnnl.global.dnnl.dnnl_sgemm;

/**
 * A convolution's two gradients as single matrix products over the whole batch, on NHWC data. With the input's
 * patches as rows, taps in {@code (kh, kw, i)} order ({@code cols}, im2col; in NHWC every tap is one contiguous copy
 * of the input channels):
 * <pre>
 *   kernel gradient  dW[o, (kh, kw, i)] = dy^T[o, (n, oh, ow)] * cols[(n, oh, ow), (kh, kw, i)]   then ohwi -> oihw
 *   input gradient   dcols[(n, oh, ow), (kh, kw, i)] = dy[(n, oh, ow), o] * W[o, (kh, kw, i)]     then col2im
 * </pre>
 * with {@code dnnl_sgemm}. Why: on small feature maps oneDNN's direct backward kernels run far below the machine's
 * matrix-product speed (one thread, 32 x 512 channels at 2x2: kernel gradient 61-67 ms and input gradient 23 ms,
 * where {@code dnnl_sgemm} does each 0.6 GFLOP product in 15 ms), because a product over the batch keeps the inner
 * dimension large. Used only where the {@link ImplementationTuner} measures it faster, and only for output maps of
 * up to {@value #MAX_OUTPUT_PIXELS} pixels (beyond that the patch matrix grows large and oneDNN's kernels are
 * efficient). Its patch matrix and reordered kernel live in the thread's scratch buffers. Not thread-safe.
 */
final class GemmConvolution implements AutoCloseable {

    /** Output maps up to 8x8. */
    static final int MAX_OUTPUT_PIXELS = 64;

    private final ConvBnReluKernel.Geometry g;
    private final int n;
    private final int h;
    private final int w;
    private final int oh;
    private final int ow;
    private final long rows;
    private final long cols;
    private final ConvBnReluKernel.Reorder ohwiToOihw;
    private final ConvBnReluKernel.Reorder oihwToOhwi;

    /**
     * @param g  the convolution
     * @param n  batch size
     * @param h  input height
     * @param w  input width
     * @param oh output height
     * @param ow output width
     */
    GemmConvolution(ConvBnReluKernel.Geometry g, int n, int h, int w, int oh, int ow) {
        this.g = g;
        this.n = n;
        this.h = h;
        this.w = w;
        this.oh = oh;
        this.ow = ow;
        this.rows = (long) n * oh * ow;
        this.cols = (long) g.kernelH() * g.kernelW() * g.nIn();
        long[] dims = {g.nOut(), g.nIn(), g.kernelH(), g.kernelW()};
        this.ohwiToOihw = new ConvBnReluKernel.Reorder(ConvBnReluKernel.md(dims, dnnl_ohwi),
                ConvBnReluKernel.md(dims, dnnl_oihw));
        this.oihwToOhwi = new ConvBnReluKernel.Reorder(ConvBnReluKernel.md(dims, dnnl_oihw),
                ConvBnReluKernel.md(dims, dnnl_ohwi));
    }

    /** @return whether this formulation is worth trying for an output map */
    static boolean eligible(int oh, int ow) {
        return (long) oh * ow <= MAX_OUTPUT_PIXELS;
    }

    /**
     * @param x  the input, NHWC, at this address
     * @param dy the output gradient, NHWC
     * @param dW receives the kernel gradient, {@code [nOut, nIn, kH, kW]} c order
     */
    void kernelGradient(long x, long dy, long dW) {
        long pat = ConvBnReluKernel.scratch(ConvBnReluKernel.Slot.PATCHES, rows * cols * Float.BYTES);
        im2col(x, pat);
        long tmp = ConvBnReluKernel.scratch(ConvBnReluKernel.Slot.KERNEL, (long) g.nOut() * cols * Float.BYTES);
        OneDnn.check(dnnl_sgemm((byte) 'T', (byte) 'N', g.nOut(), cols, rows, 1f, floats(dy), g.nOut(), floats(pat),
                cols, 0f, floats(tmp), cols), "dnnl_sgemm");
        ohwiToOihw.run(tmp, dW);
    }

    /**
     * @param wOihw the kernel, {@code [nOut, nIn, kH, kW]} c order
     * @param dy    the output gradient, NHWC
     * @param dx    receives the input gradient, NHWC (overwritten)
     */
    void inputGradient(long wOihw, long dy, long dx) {
        long k = ConvBnReluKernel.scratch(ConvBnReluKernel.Slot.KERNEL, (long) g.nOut() * cols * Float.BYTES);
        oihwToOhwi.run(wOihw, k);
        long pat = ConvBnReluKernel.scratch(ConvBnReluKernel.Slot.PATCHES, rows * cols * Float.BYTES);
        OneDnn.check(dnnl_sgemm((byte) 'N', (byte) 'N', rows, cols, g.nOut(), 1f, floats(dy), g.nOut(), floats(k),
                cols, 0f, floats(pat), cols), "dnnl_sgemm");
        col2im(pat, dx);
    }

    /** Copies every patch of the NHWC input into one row of {@code pat} (taps in kh, kw order; zeros outside). */
    private void im2col(long x, long pat) {
        long c = (long) g.nIn() * Float.BYTES;
        ConvBnReluKernel.Address to = new ConvBnReluKernel.Address(0);
        ConvBnReluKernel.Address from = new ConvBnReluKernel.Address(0);
        long row = pat;
        for (int b = 0; b < n; b++) {
            for (int y = 0; y < oh; y++) {
                for (int xo = 0; xo < ow; xo++) {
                    for (int ky = 0; ky < g.kernelH(); ky++) {
                        int iy = y * g.strideH() - g.padTop() + ky;
                        for (int kx = 0; kx < g.kernelW(); kx++) {
                            int ix = xo * g.strideW() - g.padLeft() + kx;
                            to.at(row);
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
                                Pointer.memset(to, 0, c);
                            } else {
                                Pointer.memcpy(to, from.at(x + (((long) b * h + iy) * w + ix) * c), c);
                            }
                            row += c;
                        }
                    }
                }
            }
        }
    }

    /** Adds every row's taps of {@code pat} into the NHWC input gradient they came from (the adjoint of im2col). */
    private void col2im(long pat, long dx) {
        int c = g.nIn();
        long dxLength = (long) n * h * w * c;
        Pointer.memset(new ConvBnReluKernel.Address(dx), 0, dxLength * Float.BYTES);
        FloatBuffer src = floats(pat).capacity(rows * cols).asBuffer();
        FloatBuffer dst = floats(dx).capacity(dxLength).asBuffer();
        float[] acc = new float[c];
        float[] add = new float[c];
        int tap = 0;
        for (int b = 0; b < n; b++) {
            for (int y = 0; y < oh; y++) {
                for (int xo = 0; xo < ow; xo++) {
                    for (int ky = 0; ky < g.kernelH(); ky++) {
                        int iy = y * g.strideH() - g.padTop() + ky;
                        for (int kx = 0; kx < g.kernelW(); kx++, tap++) {
                            int ix = xo * g.strideW() - g.padLeft() + kx;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
                                continue;
                            }
                            int at = (int) ((((long) b * h + iy) * w + ix) * c);
                            src.get(tap * c, add);
                            dst.get(at, acc);
                            for (int i = 0; i < c; i++) {
                                acc[i] += add[i];
                            }
                            dst.put(at, acc);
                        }
                    }
                }
            }
        }
    }

    /**
     * @param inputGradient time {@link #inputGradient} rather than {@link #kernelGradient}
     * @return milliseconds of one run on zero-filled scratch memory (the faster of two, after a warm-up)
     */
    double time(boolean inputGradient) {
        try (AlignedBuffer x = new AlignedBuffer(); AlignedBuffer dy = new AlignedBuffer();
             AlignedBuffer wt = new AlignedBuffer()) {
            long xb = (long) n * h * w * g.nIn() * Float.BYTES;
            long dyb = rows * g.nOut() * Float.BYTES;
            long wb = (long) g.nOut() * cols * Float.BYTES;
            long xa = x.address(xb);
            long dya = dy.address(dyb);
            long wa = wt.address(wb);
            Pointer.memset(new ConvBnReluKernel.Address(xa), 0, xb);
            Pointer.memset(new ConvBnReluKernel.Address(dya), 0, dyb);
            Pointer.memset(new ConvBnReluKernel.Address(wa), 0, wb);
            double best = Double.MAX_VALUE;
            for (int run = 0; run < 3; run++) {
                long t0 = System.nanoTime();
                if (inputGradient) {
                    inputGradient(wa, dya, xa);
                } else {
                    kernelGradient(xa, dya, wa);
                }
                if (run > 0) {
                    best = Math.min(best, (System.nanoTime() - t0) / 1e6);
                }
            }
            return best;
        }
    }

    private static FloatPointer floats(long address) {
        return new FloatPointer(new ConvBnReluKernel.Address(address));
    }

    @Override
    public void close() {
        ohwiToOihw.close();
        oihwToOhwi.close();
    }
}
