package org.repopt.data;

import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

import java.util.List;
import java.util.Objects;

/** A small data set (Fashion-MNIST, CIFAR) held in memory as bytes; views with other options share the bytes. */
final class InMemoryDataset extends FormattedDataset {

    private final ByteImages train;
    private final ByteImages test;
    private final ChannelStats stats;
    private final DataOptions options;
    private final int[] trainExamples;

    InMemoryDataset(String name, ByteImages train, ByteImages test, List<String> classNames, ChannelStats stats,
                    DataOptions options) {
        super(name, new ImageFormat(train.channels, train.height, train.width, classNames));
        if (train.channels != test.channels || train.height != test.height || train.width != test.width) {
            throw new IllegalArgumentException(name + ": training images are " + shape(train)
                    + ", test images are " + shape(test) + "; expected the same shape");
        }
        int side = Math.min(train.height, train.width);
        if (options.padding() >= side) {
            throw new IllegalArgumentException(name + ": padding " + options.padding()
                    + ", expected less than the image side " + side);
        }
        this.train = train;
        this.test = test;
        this.stats = stats;
        this.options = Objects.requireNonNull(options, "options");
        this.trainExamples = options.subset().select(train.count, name);
    }

    private static String shape(ByteImages images) {
        return images.channels + "x" + images.height + "x" + images.width;
    }

    @Override
    public int trainExamples() {
        return trainExamples.length;
    }

    @Override
    public int testExamples() {
        return test.count;
    }

    @Override
    public DataOptions options() {
        return options;
    }

    @Override
    public ImageDataset withOptions(DataOptions newOptions) {
        return new InMemoryDataset(name(), train, test, classNames(), stats, newOptions);
    }

    @Override
    public EpochBatches train(int batchSize, long seed) {
        ExampleSource source = new SmallImageSource(train, classNames(), stats, options.padding(), options.flip());
        return new ShuffledEpochs(source, trainExamples, batchSize, seed, options.dataType());
    }

    @Override
    public DataSetIterator test(int batchSize) {
        ShuffledEpochs.checkBatchSize(batchSize);
        ExampleSource source = new SmallImageSource(test, classNames(), stats, 0, false);
        int[] order = new int[test.count];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        return new BatchIterator(source, order, batchSize, false, 0L, 0, options.dataType());
    }

    @Override
    public String inputNormalization() {
        return stats.formula();
    }

    @Override
    public String toString() {
        return name() + " (" + trainExamples.length + " training, " + test.count + " test images of " + shape(train)
                + ", " + options + ")";
    }
}
