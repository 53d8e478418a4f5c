package org.repopt.train;

import java.nio.file.Path;

/**
 * Named training recipes: the paper's (docs/METHOD.md#training-recipe) and this project's short Fashion-MNIST recipe. Each is
 * a set of defaults a caller may override; none is tuned beyond what its comment says.
 */
public enum Recipe {
    /** The paper's ImageNet recipe: 120 epochs, batch 256, lr 0.1 cosine, 5 warm-up epochs, label smoothing 0.1. */
    IMAGENET(120, 256, 0.1, 5, 0.1, 4e-5, 0),
    /** The paper's Hyper-Search recipe on CIFAR-100 (also used for CIFAR-10): 240 epochs, crop pad 4 + flip. */
    CIFAR(240, 256, 0.1, 5, 0.0, 4e-5, 4),
    /**
     * This project's demo-size recipe for the {@code small} net on Fashion-MNIST: 3 epochs of batch 64 at lr 0.05,
     * no warm-up, weight decay 5e-4, flip only; reaches about 91% with RepOpt-VGG in a few minutes on 2 cores.
     */
    FASHION_MNIST(3, 64, 0.05, 0, 0.0, 5e-4, 0);

    private final int epochs;
    private final int batchSize;
    private final double learningRate;
    private final int warmupEpochs;
    private final double labelSmoothing;
    private final double weightDecay;
    private final int cropPadding;

    Recipe(int epochs, int batchSize, double learningRate, int warmupEpochs, double labelSmoothing,
           double weightDecay, int cropPadding) {
        this.epochs = epochs;
        this.batchSize = batchSize;
        this.learningRate = learningRate;
        this.warmupEpochs = warmupEpochs;
        this.labelSmoothing = labelSmoothing;
        this.weightDecay = weightDecay;
        this.cropPadding = cropPadding;
    }

    /** @return a training configuration with this recipe's schedule, writing into {@code outputDir} */
    public TrainConfig.Builder config(Path outputDir) {
        return TrainConfig.builder(outputDir).epochs(epochs).batchSize(batchSize).learningRate(learningRate)
                .warmupEpochs(warmupEpochs).labelSmoothing(labelSmoothing);
    }

    /** @return L2 weight decay of kernels and linear weights */
    public double weightDecay() {
        return weightDecay;
    }

    /** @return zero padding of the random crop of small images (0: no crop) */
    public int cropPadding() {
        return cropPadding;
    }

    /** @return epochs */
    public int epochs() {
        return epochs;
    }

    /** @return batch size */
    public int batchSize() {
        return batchSize;
    }

    /** @return base learning rate */
    public double learningRate() {
        return learningRate;
    }
}
