package org.repopt.spark;

import org.apache.spark.api.java.JavaSparkContext;
import org.repopt.train.EpochFitter;
import org.repopt.train.EpochFitterProvider;

/**
 * Gives code that cannot depend on this module at compile time (the CLI: {@code ./repopt train --spark MASTER}) a
 * {@link SparkEpochFitter} that owns its Spark context.
 */
public final class SparkFitterProvider implements EpochFitterProvider {

    /** The name callers ask for. */
    public static final String NAME = "spark";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public EpochFitter open(String cluster, int workers, int averagingFrequency) {
        // the values are checked before a context starts
        SparkEpochFitter.Builder b = SparkEpochFitter.builder().workers(workers).averagingFrequency(averagingFrequency)
                .ownsContext();
        JavaSparkContext sc = SparkContexts.start(cluster, SparkContexts.DEFAULT_APP_NAME);
        try {
            return b.build(sc);
        } catch (RuntimeException e) {
            sc.stop();
            throw e;
        }
    }
}
