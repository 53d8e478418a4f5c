package org.repopt.spark;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.linalg.dataset.DataSet;
import org.repopt.parallel.DataParallelism;
import org.repopt.parallel.WorkerSlices;
import org.repopt.train.EpochFitter;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Fits an epoch on Apache Spark with dl4j-spark's parameter averaging: each global batch is split into one equal
 * slice per worker ({@link WorkerSlices}), every worker takes {@code K} optimizer steps from the same network on
 * its own slices, then the driver's network becomes the average of the workers' parameters <em>and</em> updater
 * states ({@code saveUpdater(true)}; DL4J's default would restart momentum at every averaging).
 *
 * <p>With averaging frequency {@code K = 1} this is synchronous data-parallel SGD: one step equals the average of
 * the workers' updates from the same starting point, what PyTorch's DDP computes (for the SGD form with its
 * linear updater state, bit for bit the mean of the workers' steps), with BatchNorm statistics per worker as in DDP
 * without SyncBN. With {@code K > 1} it is local SGD: workers drift apart for {@code K} steps between averagings.
 *
 * <p>Workers are Spark partitions, not executors: worker {@code w} always gets partition {@code w}, so the result
 * depends on the seed and the number of workers, never on how many executors run the tasks or in which order. The
 * slices travel from the driver with each averaging round (RDD training approach {@code Direct}: no shared file
 * system needed); the data files are read on the driver only.
 *
 * <p>Any {@code ComputationGraph} trains this way, with every custom part of its configuration (Grad Mult hooks,
 * updaters, layers, the learning-rate schedule): dl4j-spark ships the configuration to the executors as a serialized
 * Java object. The workers' copies also get the driver's iteration count ({@link WorkerCounts}), which dl4j-spark
 * loses, so that a schedule advances on Spark as in one process.
 *
 * <pre>{@code
 * try (SparkEpochFitter spark = SparkEpochFitter.builder().workers(2).ownsContext()
 *         .build(SparkContexts.start("local[2]", "repopt"))) {
 *     new Trainer(config, System.out).withEpochFitter(spark).train(net, data);
 * }
 * }</pre>
 */
public final class SparkEpochFitter implements EpochFitter {

    private final JavaSparkContext sc;
    private final DataParallelism parallelism;
    private final int workers;
    private final int averagingFrequency;
    private final boolean ownsContext;

    private SparkEpochFitter(Builder b, JavaSparkContext sc) {
        this.sc = Objects.requireNonNull(sc, "sc");
        this.parallelism = new DataParallelism(b.workers > 0 ? b.workers : sc.defaultParallelism(),
                b.averagingFrequency);
        this.workers = parallelism.workers();
        this.averagingFrequency = parallelism.averagingFrequency();
        this.ownsContext = b.ownsContext;
    }

    /** @return a builder: workers default to the Spark context's default parallelism, averaging frequency to 1 */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the workers (partitions) and the averaging frequency */
    public DataParallelism parallelism() {
        return parallelism;
    }

    /** @return the Spark context */
    public JavaSparkContext sparkContext() {
        return sc;
    }

    /**
     * Trains {@code net} in place, one averaging round of up to {@code K} global batches at a time; after each round
     * {@code monitor} hears of its batches, each with the workers' mean loss of their last step. The iteration count
     * advances by one per global batch, the epoch count not at all (the caller owns it).
     */
    @Override
    public void fit(ComputationGraph net, Iterator<DataSet> batches, BatchMonitor monitor) {
        SparkComputationGraph sparkNet = new SparkComputationGraph(sc, net, master(net, 1, 1));
        int perWorker = 0;
        while (batches.hasNext()) {
            List<List<DataSet>> shares = new ArrayList<>(workers);
            for (int w = 0; w < workers; w++) {
                shares.add(new ArrayList<>(averagingFrequency));
            }
            List<Long> examples = new ArrayList<>(averagingFrequency);
            while (examples.size() < averagingFrequency && batches.hasNext()) {
                DataSet batch = batches.next();
                long n = batch.getFeatures().size(0);
                if (perWorker == 0) {
                    // the first batch has the run's batch size, unless it is the epoch's only batch
                    perWorker = batches.hasNext() ? WorkerSlices.perWorker((int) n, workers)
                            : (int) ((n + workers - 1) / workers);
                } else if (n > (long) perWorker * workers) {
                    throw new IllegalArgumentException("global batch of " + n + " examples after a first batch of at "
                            + "most " + (long) perWorker * workers + ": the batches of an epoch must all have the "
                            + "first one's size, except the last, which may be smaller");
                }
                List<DataSet> slices = WorkerSlices.split(batch, workers);
                for (int w = 0; w < slices.size(); w++) {
                    shares.get(w).add(slices.get(w));
                }
                examples.add(n);
            }
            round(sparkNet, shares, examples.size(), perWorker);
            for (long n : examples) {
                monitor.batchDone(sparkNet.getScore(), n);
            }
        }
    }

    /**
     * One averaging round: partition {@code w} holds worker {@code w}'s slices in step order, and the training
     * master averages after {@code globalBatches} steps (fewer than {@code K} only at the end of an epoch, so the
     * iteration count, which dl4j-spark advances by the averaging frequency, stays one per global batch).
     */
    private void round(SparkComputationGraph sparkNet, List<List<DataSet>> shares, int globalBatches, int perWorker) {
        JavaRDD<DataSet> data = sc.parallelize(shares, workers).flatMap(new Flatten());
        master(sparkNet.getNetwork(), globalBatches, perWorker).executeTraining(sparkNet, data);
    }

    /**
     * @param net       the driver's network, whose counts the workers start from
     * @param steps     optimizer steps per worker before the averaging
     * @param perWorker examples in a full worker slice
     */
    private ParameterAveragingTrainingMaster master(ComputationGraph net, int steps, int perWorker) {
        return new ParameterAveragingTrainingMaster.Builder(workers, perWorker)
                .batchSizePerWorker(perWorker)
                .averagingFrequency(steps)
                .saveUpdater(true)
                .rddTrainingApproach(RDDTrainingApproach.Direct)
                // the partitions are the workers: Spark must not move slices between them
                .repartionData(Repartition.Never)
                .workerPrefetchNumBatches(0)
                // no caching: the slices travel inside the tasks anyway, and a cached round would stay behind
                .storageLevel(null)
                .collectTrainingStats(false)
                .trainingHooks(new WorkerCounts(net.getIterationCount(), net.getEpochCount()))
                .build();
    }

    /** @return the workers and the averaging frequency: with the seed they fix the trajectory */
    @Override
    public Map<String, Object> trajectoryFields() {
        return parallelism.trajectoryFields();
    }

    /** Stops the Spark context if this fitter started it ({@link Builder#ownsContext()}). */
    @Override
    public void close() {
        if (ownsContext) {
            sc.stop();
        }
    }

    @Override
    public String toString() {
        return "spark(" + sc.master() + ", " + parallelism + ")";
    }

    /** Turns the one list per partition into that partition's data sets. */
    private static final class Flatten implements FlatMapFunction<List<DataSet>, DataSet> {
        private static final long serialVersionUID = 1L;

        @Override
        public Iterator<DataSet> call(List<DataSet> share) {
            return share.iterator();
        }
    }

    /** Collects values, each checked when it is set. Not thread-safe. */
    public static final class Builder {
        private int workers;
        private int averagingFrequency = 1;
        private boolean ownsContext;

        private Builder() {
        }

        /**
         * @param workers data-parallel workers: each global batch is split into this many equal slices, so the batch
         *                size should be a multiple of it; 0 (default) for the context's default parallelism
         * @return this
         * @throws IllegalArgumentException if {@code workers < 0}
         */
        public Builder workers(int workers) {
            if (workers < 0) {
                throw new IllegalArgumentException("workers: expected 1 or more (0 for the Spark context's default "
                        + "parallelism), got " + workers);
            }
            this.workers = workers;
            return this;
        }

        /**
         * @param k optimizer steps between averagings: 1 (default) is synchronous data-parallel SGD, more is local
         *          SGD (fewer rounds, not the same trajectory)
         * @return this
         * @throws IllegalArgumentException if {@code k < 1}
         */
        public Builder averagingFrequency(int k) {
            this.averagingFrequency = DataParallelism.checkAveragingFrequency(k);
            return this;
        }

        /** @return this, with {@link SparkEpochFitter#close()} stopping the context */
        public Builder ownsContext() {
            this.ownsContext = true;
            return this;
        }

        /**
         * @param sc the Spark context the workers run in
         * @return the fitter
         */
        public SparkEpochFitter build(JavaSparkContext sc) {
            return new SparkEpochFitter(this, sc);
        }
    }
}
