package org.repopt.testing;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.repopt.gr.BlockScales;
import org.repopt.model.BlockSpec;
import org.repopt.model.VggSpec;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Tiny architectures and data for fast tests. */
public final class TinySpecs {

    private TinySpecs() {
    }

    /** 3x8x8 input, 3 classes; blocks with and without identity branches, strides 2 and 1. */
    public static VggSpec tiny() {
        return VggSpec.builder("tiny").input(3, 8, 8).classes(3).stem(4, 2).stage(2, 6, 2).stage(2, 6, 1).build();
    }

    /** Random but reproducible per-channel scales for every block of {@code spec}. */
    public static List<BlockScales> randomScales(VggSpec spec, long seed) {
        Random r = new Random(seed);
        List<BlockScales> out = new ArrayList<>();
        for (BlockSpec b : spec.blocks()) {
            out.add(new BlockScales(b.name(), b.in(), b.out(), b.stride(), positive(r, b.out()), positive(r, b.out()),
                    b.hasIdentity() ? positive(r, b.out()) : null));
        }
        return out;
    }

    static double[] positive(Random r, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = 0.3 + 1.5 * r.nextDouble();
        }
        return v;
    }

    /** A reproducible random batch of {@code spec}'s shape with one-hot labels. */
    public static DataSet batch(VggSpec spec, int n, long seed, DataType type) {
        return batch(n, spec.inputChannels(), spec.inputHeight(), spec.inputWidth(), spec.numClasses(), seed, type);
    }

    /** A reproducible random NCHW batch of Gaussian pixels with one-hot labels. */
    public static DataSet batch(int n, int channels, int height, int width, int classes, long seed, DataType type) {
        // java.util.Random, not ND4J's generator: bit-identical batches whatever else used ND4J's RNG
        Random r = new Random(seed);
        var labels = Nd4j.zeros(type, n, classes);
        for (int i = 0; i < n; i++) {
            labels.putScalar(i, r.nextInt(classes), 1.0);
        }
        double[] x = new double[n * channels * height * width];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextGaussian();
        }
        long[] shape = {n, channels, height, width};
        return new DataSet(Nd4j.create(x, shape, DataType.DOUBLE).castTo(type), labels);
    }
}
