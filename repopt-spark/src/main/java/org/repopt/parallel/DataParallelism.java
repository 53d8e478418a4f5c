package org.repopt.parallel;

import org.repopt.train.EpochFitterProvider;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a data-parallel run shares its work: {@code workers} take equal slices of every global batch
 * ({@link WorkerSlices}), and their networks (parameters and updater state) are averaged every
 * {@code averagingFrequency} steps. With the seed these two fix the trajectory, whichever engine (Spark,
 * ParallelWrapper) computes it.
 *
 * @param workers            data-parallel workers, at least 1
 * @param averagingFrequency optimizer steps between averagings, at least 1 (1: synchronous data-parallel SGD;
 *                           more: local SGD)
 */
public record DataParallelism(int workers, int averagingFrequency) {

    /** @throws IllegalArgumentException when a value is below 1 */
    public DataParallelism {
        if (workers < 1) {
            throw new IllegalArgumentException("workers: expected 1 or more, got " + workers);
        }
        checkAveragingFrequency(averagingFrequency);
    }

    /**
     * @param k optimizer steps between averagings
     * @return {@code k}
     * @throws IllegalArgumentException if {@code k < 1}
     */
    public static int checkAveragingFrequency(int k) {
        if (k < 1) {
            throw new IllegalArgumentException("averaging frequency: expected 1 or more, got " + k);
        }
        return k;
    }

    /** @return the values as a checkpoint records them, so that a run resumes only under the same ones */
    public Map<String, Object> trajectoryFields() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(EpochFitterProvider.WORKERS_FIELD, workers);
        m.put(EpochFitterProvider.AVERAGING_FREQUENCY_FIELD, averagingFrequency);
        return m;
    }

    @Override
    public String toString() {
        return "workers=" + workers + ", averagingFrequency=" + averagingFrequency;
    }
}
