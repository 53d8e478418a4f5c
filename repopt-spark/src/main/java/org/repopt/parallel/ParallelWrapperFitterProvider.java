package org.repopt.parallel;

import org.repopt.train.EpochFitter;
import org.repopt.train.EpochFitterProvider;

/** Gives the CLI ({@code ./repopt train --workers N} without {@code --spark}) a {@link ParallelWrapperFitter}. */
public final class ParallelWrapperFitterProvider implements EpochFitterProvider {

    /** The name callers ask for. */
    public static final String NAME = "parallel-wrapper";

    @Override
    public String name() {
        return NAME;
    }

    /**
     * @param cluster            must be empty: the workers are threads of this JVM
     * @param workers            data-parallel workers, at least 1
     * @param averagingFrequency optimizer steps between averagings, at least 1
     */
    @Override
    public EpochFitter open(String cluster, int workers, int averagingFrequency) {
        if (cluster != null && !cluster.isEmpty()) {
            throw new IllegalArgumentException("ParallelWrapper trains on this machine only, not on " + cluster);
        }
        return new ParallelWrapperFitter(new DataParallelism(workers, averagingFrequency));
    }
}
