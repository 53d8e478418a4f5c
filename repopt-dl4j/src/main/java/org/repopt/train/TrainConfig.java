package org.repopt.train;

import org.repopt.gr.RepOptimizer;
import org.repopt.io.JsonFormatException;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What one training run does: an immutable value, validated when built.
 *
 * <pre>{@code
 * TrainConfig config = TrainConfig.builder(Path.of("runs/b1")).epochs(120).batchSize(256).build();
 * }</pre>
 *
 * The defaults are the paper's ImageNet recipe (docs/METHOD.md#training-recipe): 120 epochs, batch 256, learning rate 0.1 with
 * cosine decay per iteration to 0 after 5 warm-up epochs, label smoothing 0.1. The optimizer itself (momentum,
 * Nesterov, weight decay, Grad Mult) belongs to the network's configuration, e.g.
 * {@link RepOptimizer#sgd(java.util.List)}; the trainer replaces only its learning rate by
 * {@link WarmupCosineSchedule}: {@link #learningRate()} is the one learning rate of a run, whatever rate the
 * network's updaters were built with.
 */
public final class TrainConfig {

    /** Epochs of the paper's ImageNet recipe (docs/METHOD.md#training-recipe). */
    public static final int DEFAULT_EPOCHS = 120;
    /** Batch size of the paper's recipes (docs/METHOD.md#training-recipe). */
    public static final int DEFAULT_BATCH_SIZE = 256;
    /** Peak learning rate of the paper's recipes for batch 256 (docs/METHOD.md#training-recipe). */
    public static final double DEFAULT_LEARNING_RATE = RepOptimizer.DEFAULT_LEARNING_RATE;
    /** Warm-up epochs of the paper's recipes (docs/METHOD.md#training-recipe). */
    public static final int DEFAULT_WARMUP_EPOCHS = 5;
    /** The cosine decays to 0 (docs/METHOD.md#training-recipe, "min 0"). */
    public static final double DEFAULT_MIN_LEARNING_RATE = 0.0;
    /** Label smoothing of the paper's ImageNet recipe (docs/METHOD.md#training-recipe). */
    public static final double DEFAULT_LABEL_SMOOTHING = 0.1;
    /** The reference code's default seed ({@code _C.SEED = 0}). */
    public static final long DEFAULT_SEED = 0L;

    private final int epochs;
    private final int batchSize;
    private final double learningRate;
    private final int warmupEpochs;
    private final double minLearningRate;
    private final double labelSmoothing;
    private final long seed;
    private final Path outputDir;
    private final boolean evaluateEveryEpoch;
    private final boolean top5;
    private final boolean progress;

    private TrainConfig(Builder b) {
        if (b.epochs < 1) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + b.epochs);
        }
        if (b.batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be >= 1, got " + b.batchSize);
        }
        if (!(b.learningRate > 0) || Double.isInfinite(b.learningRate)) {
            throw new IllegalArgumentException("learningRate must be finite and > 0, got " + b.learningRate);
        }
        if (b.warmupEpochs < 0 || b.warmupEpochs >= b.epochs) {
            throw new IllegalArgumentException("warmupEpochs must be in [0, epochs=" + b.epochs + "), got "
                    + b.warmupEpochs + " (the paper warms up " + DEFAULT_WARMUP_EPOCHS + " of "
                    + DEFAULT_EPOCHS + " epochs; set fewer warm-up epochs for a short run)");
        }
        if (!(b.minLearningRate >= 0 && b.minLearningRate <= b.learningRate)) {
            throw new IllegalArgumentException("minLearningRate must be in [0, learningRate=" + b.learningRate
                    + "], got " + b.minLearningRate);
        }
        if (!(b.labelSmoothing >= 0 && b.labelSmoothing < 1)) {
            throw new IllegalArgumentException("labelSmoothing must be in [0, 1), got " + b.labelSmoothing);
        }
        this.epochs = b.epochs;
        this.batchSize = b.batchSize;
        this.learningRate = b.learningRate;
        this.warmupEpochs = b.warmupEpochs;
        this.minLearningRate = b.minLearningRate;
        this.labelSmoothing = b.labelSmoothing;
        this.seed = b.seed;
        this.outputDir = b.outputDir;
        this.evaluateEveryEpoch = b.evaluateEveryEpoch;
        this.top5 = b.top5;
        this.progress = b.progress;
    }

    /**
     * @param outputDir where checkpoints and {@code metrics.jsonl} go (created when missing)
     * @return a builder holding the defaults
     */
    public static Builder builder(Path outputDir) {
        return new Builder(outputDir);
    }

    /** @return a builder holding this configuration's values */
    public Builder toBuilder() {
        Builder b = new Builder(outputDir);
        b.epochs = epochs;
        b.batchSize = batchSize;
        b.learningRate = learningRate;
        b.warmupEpochs = warmupEpochs;
        b.minLearningRate = minLearningRate;
        b.labelSmoothing = labelSmoothing;
        b.seed = seed;
        b.evaluateEveryEpoch = evaluateEveryEpoch;
        b.top5 = top5;
        b.progress = progress;
        return b;
    }

    /** @return epochs of the run */
    public int epochs() {
        return epochs;
    }

    /** @return training examples per batch */
    public int batchSize() {
        return batchSize;
    }

    /** @return the peak learning rate */
    public double learningRate() {
        return learningRate;
    }

    /** @return epochs of linear warm-up */
    public int warmupEpochs() {
        return warmupEpochs;
    }

    /** @return the learning rate of the last iteration */
    public double minLearningRate() {
        return minLearningRate;
    }

    /** @return the label smoothing {@code e}; 0 trains on one-hot labels */
    public double labelSmoothing() {
        return labelSmoothing;
    }

    /** @return seed of the data order and augmentation (and of ND4J's random numbers, per epoch) */
    public long seed() {
        return seed;
    }

    /** @return where checkpoints and {@code metrics.jsonl} go */
    public Path outputDir() {
        return outputDir;
    }

    /** @return whether the test split is evaluated after every epoch (it always is after the last) */
    public boolean evaluateEveryEpoch() {
        return evaluateEveryEpoch;
    }

    /** @return whether top-5 accuracy is reported for data sets with more than 10 classes */
    public boolean top5() {
        return top5;
    }

    /** @return whether the progress bar is printed */
    public boolean progress() {
        return progress;
    }

    /**
     * The values that determine the trained parameters; a checkpoint may only be resumed under equal values.
     *
     * @return name to value, in a fixed order
     */
    public Map<String, Object> trajectoryFields() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epochs", epochs);
        m.put("batchSize", batchSize);
        m.put("learningRate", learningRate);
        m.put("warmupEpochs", warmupEpochs);
        m.put("minLearningRate", minLearningRate);
        m.put("labelSmoothing", labelSmoothing);
        m.put("seed", seed);
        return m;
    }

    /**
     * The inverse of {@link #trajectoryFields()} as a checkpoint records them ({@code String.valueOf} of each value).
     *
     * @param outputDir where the run writes
     * @param fields    name to value as text, exactly the names of {@link #trajectoryFields()}
     * @param source    where the fields come from, for messages
     * @return a builder holding those values (and the defaults of the other settings)
     * @throws JsonFormatException naming the missing, unknown or unreadable field
     */
    static Builder fromTrajectoryFields(Path outputDir, Map<String, String> fields, String source) {
        Builder b = builder(outputDir);
        Map<String, Object> expected = b.build().trajectoryFields();
        for (String key : fields.keySet()) {
            if (!expected.containsKey(key)) {
                throw new JsonFormatException(source, "config", key, "one of " + expected.keySet(), key,
                        "unknown field '" + key + "'");
            }
        }
        b.epochs = (int) parse(fields, "epochs", source, false);
        b.batchSize = (int) parse(fields, "batchSize", source, false);
        b.learningRate = parse(fields, "learningRate", source, true);
        b.warmupEpochs = (int) parse(fields, "warmupEpochs", source, false);
        b.minLearningRate = parse(fields, "minLearningRate", source, true);
        b.labelSmoothing = parse(fields, "labelSmoothing", source, true);
        String seed = fields.get("seed");
        try {
            b.seed = Long.parseLong(String.valueOf(seed));
        } catch (NumberFormatException e) {
            throw new JsonFormatException(source, "config", "seed", "a long integer", String.valueOf(seed),
                    "field 'seed' must be a long integer, got " + seed);
        }
        return b;
    }

    private static double parse(Map<String, String> fields, String key, String source, boolean real) {
        String v = fields.get(key);
        try {
            return real ? Double.parseDouble(String.valueOf(v)) : Integer.parseInt(String.valueOf(v));
        } catch (NumberFormatException e) {
            String expected = real ? "a number" : "an int";
            throw new JsonFormatException(source, "config", key, expected, String.valueOf(v), "field '" + key
                    + "' must be " + expected + ", got " + v);
        }
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof TrainConfig)) {
            return false;
        }
        TrainConfig that = (TrainConfig) o;
        return trajectoryFields().equals(that.trajectoryFields()) && outputDir.equals(that.outputDir)
                && evaluateEveryEpoch == that.evaluateEveryEpoch && top5 == that.top5 && progress == that.progress;
    }

    @Override
    public int hashCode() {
        return Objects.hash(trajectoryFields(), outputDir, evaluateEveryEpoch, top5, progress);
    }

    @Override
    public String toString() {
        return "TrainConfig" + trajectoryFields() + " outputDir=" + outputDir + ", evaluateEveryEpoch="
                + evaluateEveryEpoch + ", top5=" + top5 + ", progress=" + progress;
    }

    /** Collects values; {@link #build()} validates them. Not thread-safe. */
    public static final class Builder {
        private final Path outputDir;
        private int epochs = DEFAULT_EPOCHS;
        private int batchSize = DEFAULT_BATCH_SIZE;
        private double learningRate = DEFAULT_LEARNING_RATE;
        private int warmupEpochs = DEFAULT_WARMUP_EPOCHS;
        private double minLearningRate = DEFAULT_MIN_LEARNING_RATE;
        private double labelSmoothing = DEFAULT_LABEL_SMOOTHING;
        private long seed = DEFAULT_SEED;
        private boolean evaluateEveryEpoch = true;
        private boolean top5 = true;
        private boolean progress = true;

        private Builder(Path outputDir) {
            this.outputDir = Objects.requireNonNull(outputDir, "outputDir");
        }

        /** @param n epochs of the run, {@code >= 1} */
        public Builder epochs(int n) {
            this.epochs = n;
            return this;
        }

        /** @param n training examples per batch, {@code >= 1} */
        public Builder batchSize(int n) {
            this.batchSize = n;
            return this;
        }

        /** @param lr the peak learning rate, finite and {@code > 0} */
        public Builder learningRate(double lr) {
            this.learningRate = lr;
            return this;
        }

        /** @param n epochs of linear warm-up, {@code 0 <= n < epochs} */
        public Builder warmupEpochs(int n) {
            this.warmupEpochs = n;
            return this;
        }

        /** @param lr the learning rate of the last iteration, {@code 0 <= lr <= learningRate} */
        public Builder minLearningRate(double lr) {
            this.minLearningRate = lr;
            return this;
        }

        /** @param e label smoothing in {@code [0, 1)}; 0 trains on one-hot labels */
        public Builder labelSmoothing(double e) {
            this.labelSmoothing = e;
            return this;
        }

        /** @param s seed of the data order, augmentation and ND4J's random numbers */
        public Builder seed(long s) {
            this.seed = s;
            return this;
        }

        /** @param on evaluate the test split after every epoch (otherwise after the last one only) */
        public Builder evaluateEveryEpoch(boolean on) {
            this.evaluateEveryEpoch = on;
            return this;
        }

        /** @param on report top-5 accuracy for data sets with more than 10 classes */
        public Builder top5(boolean on) {
            this.top5 = on;
            return this;
        }

        /** @param on print the progress bar */
        public Builder progress(boolean on) {
            this.progress = on;
            return this;
        }

        /**
         * @return the configuration
         * @throws IllegalArgumentException naming the first bad field, its value and the expected range
         */
        public TrainConfig build() {
            return new TrainConfig(this);
        }
    }
}
