package org.repopt.testing;

import org.deeplearning4j.datasets.iterator.ExistingDataSetIterator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.repopt.data.DataOptions;
import org.repopt.data.EpochBatches;
import org.repopt.data.ImageDataset;
import org.repopt.data.Subset;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A tiny synthetic {@link ImageDataset} held in memory, for trainer tests: class {@code k}'s images are a fixed
 * pattern (a class brightness plus texture) plus noise, so a small net learns them in a few steps. Epoch {@code e}'s batches (shuffle and a
 * random horizontal flip per image) depend only on the seed and {@code e}, as the contract demands.
 */
public final class InMemoryImageDataset implements ImageDataset {

    private final String name;
    private final int classes;
    private final int channels;
    private final int height;
    private final int width;
    private final DataType type;
    private final double[][] trainImages;
    private final int[] trainLabels;
    private final double[][] testImages;
    private final int[] testLabels;
    /** The training batch {@code (epoch, batch)} whose features hold a NaN, or {@code null}. */
    private final int[] nanAt;

    /**
     * @param name          data set name
     * @param classes       number of classes
     * @param channels      image channels
     * @param height        image height
     * @param width         image width
     * @param trainExamples training examples
     * @param testExamples  test examples
     * @param type          features and labels type (DOUBLE or FLOAT)
     * @param dataSeed      seed of the images themselves
     */
    public InMemoryImageDataset(String name, int classes, int channels, int height, int width, int trainExamples,
                                int testExamples, DataType type, long dataSeed) {
        this.name = name;
        this.classes = classes;
        this.channels = channels;
        this.height = height;
        this.width = width;
        this.type = type;
        int size = channels * height * width;
        Random r = new Random(dataSeed);
        double[][] patterns = new double[classes][size];
        for (int k = 0; k < classes; k++) {
            // a brightness level per class survives the global average pool; the texture makes the conv matter
            double level = classes == 1 ? 0 : 3.0 * k / (classes - 1) - 1.5;
            for (int i = 0; i < size; i++) {
                patterns[k][i] = level + 0.5 * r.nextGaussian();
            }
        }
        this.trainLabels = new int[trainExamples];
        this.trainImages = images(patterns, trainLabels, r);
        this.testLabels = new int[testExamples];
        this.testImages = images(patterns, testLabels, r);
        this.nanAt = null;
    }

    private InMemoryImageDataset(InMemoryImageDataset o, int[] nanAt) {
        this.name = o.name;
        this.classes = o.classes;
        this.channels = o.channels;
        this.height = o.height;
        this.width = o.width;
        this.type = o.type;
        this.trainImages = o.trainImages;
        this.trainLabels = o.trainLabels;
        this.testImages = o.testImages;
        this.testLabels = o.testLabels;
        this.nanAt = nanAt;
    }

    /** A small default: 3 classes, 1x6x6 images, 24 training and 12 test examples. */
    public static InMemoryImageDataset tiny(DataType type) {
        return new InMemoryImageDataset("tiny", 3, 1, 6, 6, 24, 12, type, 5);
    }

    /**
     * @param epoch 0-based epoch
     * @param batch 0-based batch of that epoch
     * @return the same data set, except that this training batch has a NaN in its features
     */
    public InMemoryImageDataset withNaN(int epoch, int batch) {
        return new InMemoryImageDataset(this, new int[]{epoch, batch});
    }

    private double[][] images(double[][] patterns, int[] labels, Random r) {
        double[][] out = new double[labels.length][];
        for (int n = 0; n < labels.length; n++) {
            labels[n] = n % classes;
            double[] x = patterns[labels[n]].clone();
            for (int i = 0; i < x.length; i++) {
                x[i] += 0.5 * r.nextGaussian();
            }
            out[n] = x;
        }
        return out;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int channels() {
        return channels;
    }

    @Override
    public int height() {
        return height;
    }

    @Override
    public int width() {
        return width;
    }

    @Override
    public int numClasses() {
        return classes;
    }

    @Override
    public List<String> classNames() {
        List<String> names = new ArrayList<>();
        for (int k = 0; k < classes; k++) {
            names.add("class" + k);
        }
        return names;
    }

    @Override
    public int trainExamples() {
        return trainLabels.length;
    }

    @Override
    public int testExamples() {
        return testLabels.length;
    }

    /** @return the options this synthetic set has: its own data type, every example, no crop, random flip */
    @Override
    public DataOptions options() {
        return new DataOptions(type, Subset.all(), 0, true);
    }

    /** Only this set's own options are supported: the synthetic images need no other. */
    @Override
    public ImageDataset withOptions(DataOptions options) {
        if (!options().equals(options)) {
            throw new IllegalArgumentException("InMemoryImageDataset supports only " + options() + ", got " + options);
        }
        return this;
    }

    @Override
    public EpochBatches train(int batchSize, long seed) {
        return new EpochBatches() {
            @Override
            public DataSetIterator epoch(int epoch) {
                Random r = new Random(seed * 1_000_003L + epoch);
                int n = trainImages.length;
                int[] order = new int[n];
                for (int i = 0; i < n; i++) {
                    order[i] = i;
                }
                for (int i = n - 1; i > 0; i--) {
                    int j = r.nextInt(i + 1);
                    int t = order[i];
                    order[i] = order[j];
                    order[j] = t;
                }
                boolean[] flip = new boolean[n];
                for (int i = 0; i < n; i++) {
                    flip[i] = r.nextBoolean();
                }
                List<DataSet> batches = new ArrayList<>();
                for (int start = 0, b = 0; start < n; start += batchSize, b++) {
                    int end = Math.min(n, start + batchSize);
                    DataSet ds = batch(trainImages, trainLabels, order, flip, start, end);
                    if (nanAt != null && nanAt[0] == epoch && nanAt[1] == b) {
                        ds.getFeatures().putScalar(0, Double.NaN);
                    }
                    batches.add(ds);
                }
                return new ExistingDataSetIterator(batches);
            }

            @Override
            public int batchesPerEpoch() {
                return (trainImages.length + batchSize - 1) / batchSize;
            }

            @Override
            public long examples() {
                return trainImages.length;
            }
        };
    }

    @Override
    public DataSetIterator test(int batchSize) {
        int n = testImages.length;
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        List<DataSet> batches = new ArrayList<>();
        for (int start = 0; start < n; start += batchSize) {
            batches.add(batch(testImages, testLabels, order, new boolean[n], start, Math.min(n, start + batchSize)));
        }
        return new ExistingDataSetIterator(batches);
    }

    private DataSet batch(double[][] images, int[] labels, int[] order, boolean[] flip, int start, int end) {
        int b = end - start;
        int size = channels * height * width;
        double[] f = new double[b * size];
        double[] l = new double[b * classes];
        for (int i = 0; i < b; i++) {
            int idx = order[start + i];
            double[] x = images[idx];
            for (int c = 0; c < channels; c++) {
                for (int y = 0; y < height; y++) {
                    for (int xx = 0; xx < width; xx++) {
                        int src = (c * height + y) * width + (flip[idx] ? width - 1 - xx : xx);
                        f[i * size + (c * height + y) * width + xx] = x[src];
                    }
                }
            }
            l[i * classes + labels[idx]] = 1;
        }
        return new DataSet(Nd4j.create(f, new long[]{b, channels, height, width}, DataType.DOUBLE).castTo(type),
                Nd4j.create(l, new long[]{b, classes}, DataType.DOUBLE).castTo(type));
    }
}
