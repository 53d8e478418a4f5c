package org.repopt.backend;

import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The batch-wide matrix-product gradients equal a convolution's gradients summed directly, in double. */
class GemmConvolutionTest {

    private static float[] gaussian(Random r, int length) {
        float[] v = new float[length];
        for (int i = 0; i < length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    @ParameterizedTest(name = "{0}x{1}x{2}x{2} -> {3}, stride {4}")
    @CsvSource({"3, 4, 2, 5, 1", "7, 3, 5, 2, 2", "1, 2, 4, 3, 1", "2, 5, 7, 4, 2", "2, 3, 8, 3, 1"})
    void bothGradientsEqualTheDirectSums(int n, int c, int hw, int o, int s) {
        Assumptions.assumeTrue(OneDnn.available(), () -> "oneDNN not present: " + OneDnn.unavailableReason());
        int oh = (hw + 2 - 3) / s + 1;
        ConvBnReluKernel.Geometry g = new ConvBnReluKernel.Geometry(c, o, 3, 3, s, s, 1, 1, 1e-5);
        Random r = new Random(n * 31 + c);
        float[] x = gaussian(r, n * hw * hw * c);       // NHWC
        float[] dy = gaussian(r, n * oh * oh * o);      // NHWC
        float[] wt = gaussian(r, o * c * 9);            // oihw
        float[] dW = new float[o * c * 9];
        float[] dx = new float[x.length];
        try (AlignedBuffer xb = new AlignedBuffer(); AlignedBuffer dyb = new AlignedBuffer();
             AlignedBuffer wb = new AlignedBuffer(); AlignedBuffer dWb = new AlignedBuffer();
             AlignedBuffer dxb = new AlignedBuffer(); GemmConvolution gemm = new GemmConvolution(g, n, hw, hw, oh, oh)) {
            long xa = xb.address(x.length * 4L);
            long dya = dyb.address(dy.length * 4L);
            long wa = wb.address(wt.length * 4L);
            long dWa = dWb.address(dW.length * 4L);
            long dxa = dxb.address(dx.length * 4L);
            new FloatPointer(ConvBnReluKernel.pointer(xa)).put(x);
            new FloatPointer(ConvBnReluKernel.pointer(dya)).put(dy);
            new FloatPointer(ConvBnReluKernel.pointer(wa)).put(wt);
            new FloatPointer(ConvBnReluKernel.pointer(dxa)).put(gaussian(r, dx.length));   // must be overwritten
            gemm.kernelGradient(xa, dya, dWa);
            gemm.inputGradient(wa, dya, dxa);
            new FloatPointer(ConvBnReluKernel.pointer(dWa)).get(dW);
            new FloatPointer(ConvBnReluKernel.pointer(dxa)).get(dx);
        }
        double[] expectW = new double[dW.length];
        double[] expectX = new double[dx.length];
        for (int b = 0; b < n; b++) {
            for (int y = 0; y < oh; y++) {
                for (int xo = 0; xo < oh; xo++) {
                    for (int oc = 0; oc < o; oc++) {
                        double d = dy[((b * oh + y) * oh + xo) * o + oc];
                        for (int ky = 0; ky < 3; ky++) {
                            for (int kx = 0; kx < 3; kx++) {
                                int iy = y * s - 1 + ky;
                                int ix = xo * s - 1 + kx;
                                if (iy < 0 || iy >= hw || ix < 0 || ix >= hw) {
                                    continue;
                                }
                                for (int ic = 0; ic < c; ic++) {
                                    int xi = ((b * hw + iy) * hw + ix) * c + ic;
                                    int wi = ((oc * c + ic) * 3 + ky) * 3 + kx;
                                    expectW[wi] += d * x[xi];
                                    expectX[xi] += d * wt[wi];
                                }
                            }
                        }
                    }
                }
            }
        }
        assertClose(expectW, dW, "kernel gradient");
        assertClose(expectX, dx, "input gradient");
    }

    private static void assertClose(double[] expected, float[] actual, String what) {
        double worst = 0;
        double scale = 1;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(worst <= 1e-5 * scale, what + ": max |diff| " + worst + " of " + scale);
    }
}
