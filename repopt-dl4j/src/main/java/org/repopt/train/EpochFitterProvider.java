package org.repopt.train;

/**
 * An {@link EpochFitter} of an optional module, for code that cannot depend on that module when it is compiled
 * (the CLI trains on Spark only when repopt-spark is on its class path). Implementations are found with
 * {@link java.util.ServiceLoader}: a module lists its provider in
 * {@code META-INF/services/org.repopt.train.EpochFitterProvider}.
 */
public interface EpochFitterProvider {

    /** The trajectory field ({@link EpochFitter#trajectoryFields()}) of a data-parallel fitter's workers. */
    String WORKERS_FIELD = "workers";
    /** The trajectory field of a data-parallel fitter's averaging frequency. */
    String AVERAGING_FREQUENCY_FIELD = "averagingFrequency";

    /** @return the name callers ask for, e.g. {@code spark} */
    String name();

    /**
     * @param cluster            where the workers run: a Spark master URL such as {@code local[2]} or
     *                           {@code spark://host:7077}, or empty for the one the launcher ({@code spark-submit})
     *                           configured
     * @param workers            data-parallel workers: each global batch is split into this many equal slices; 0
     *                           for the cluster's default parallelism
     * @param averagingFrequency optimizer steps between two averagings of the workers' networks (1: synchronous
     *                           data-parallel SGD)
     * @return a fitter the caller closes when training is over
     * @throws IllegalArgumentException when a value is out of range or the cluster cannot be used
     */
    EpochFitter open(String cluster, int workers, int averagingFrequency);
}
