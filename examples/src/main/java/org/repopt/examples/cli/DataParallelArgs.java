package org.repopt.examples.cli;

import org.repopt.train.EpochFitter;
import org.repopt.train.EpochFitterProvider;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * {@code train}'s data-parallel options. The engines live in the optional module repopt-spark, which this module
 * does not depend on at compile time: {@link #open()} finds them at run time ({@link ServiceLoader}), so the
 * default build stays without Spark and the same CLI trains on Spark when the module is on the class path
 * ({@code ./repopt} puts it there by itself when one of these options is given: it builds with {@code -Pspark}).
 */
final class DataParallelArgs {

    /** The provider of {@code --spark}. */
    static final String SPARK = "spark";
    /** The provider of {@code --workers} without {@code --spark}. */
    static final String PARALLEL_WRAPPER = "parallel-wrapper";

    @Option(names = "--spark", arity = "0..1", fallbackValue = "", paramLabel = "MASTER",
            description = {"Train data-parallel on Apache Spark (dl4j-spark parameter averaging): a master URL such as "
                    + "local[2], spark://host:7077 or yarn; no value under spark-submit, which gives the master.",
                    "Checkpoints, metrics.jsonl and --resume work as in local training; a data-parallel run resumes "
                            + "with --spark or --workers again, its workers and averaging frequency kept."})
    String spark;

    @Option(names = "--workers", paramLabel = "N",
            description = "Data-parallel workers, each taking batch/N examples per step (the batch must be a multiple "
                    + "of N). With --spark default: Spark's default parallelism; without --spark: N workers of "
                    + "DL4J's ParallelWrapper on this machine.")
    Integer workers;

    @Option(names = "--averaging-frequency", paramLabel = "K",
            description = "Steps between averagings of the workers' networks (default 1: synchronous data-parallel "
                    + "SGD; more: local SGD, a different trajectory).")
    Integer averagingFrequency;

    /** @return whether any data-parallel option was given */
    boolean given() {
        return spark != null || workers != null || averagingFrequency != null;
    }

    /**
     * @return the fitter these options ask for ({@link EpochFitter#LOCAL} without any); the caller closes it
     * @throws IllegalArgumentException when the options do not fit together or the module is not on the class path
     */
    EpochFitter open() {
        if (!given()) {
            return EpochFitter.LOCAL;
        }
        if (spark == null && workers == null) {
            throw new IllegalArgumentException("--averaging-frequency needs --spark MASTER or --workers N");
        }
        return open(workers == null ? 0 : workers, averagingFrequency == null ? 1 : averagingFrequency);
    }

    /**
     * Checks the options given with {@code --resume} against the run's: workers and averaging frequency that are
     * given must be the run's; {@code --spark} is refused for a run trained in one process.
     *
     * @param flags the resume's flag check, which reports every conflict at once
     * @param saved the run's fitter fields ({@code Trainer.savedFitterFields})
     */
    void requireSameAs(ResumeFlags flags, Map<String, String> saved) {
        flags.same("--workers", number(saved, EpochFitterProvider.WORKERS_FIELD), workers)
                .same("--averaging-frequency", number(saved, EpochFitterProvider.AVERAGING_FREQUENCY_FIELD),
                        averagingFrequency);
        if (saved.isEmpty()) {
            flags.same("--spark", null, spark);
        }
    }

    /**
     * At {@code --resume}: the run's workers and averaging frequency, on the engine these options name. The engine
     * is not part of the run (a master URL belongs to a machine), so a data-parallel run needs {@code --spark} or
     * {@code --workers} again; the trainer then checks that the trajectory is the run's.
     *
     * @param run   the run folder
     * @param saved the run's fitter fields ({@code Trainer.savedFitterFields}), after {@link #requireSameAs}
     * @return the fitter to resume with; the caller closes it
     * @throws IllegalArgumentException when a data-parallel run is resumed without an engine
     */
    EpochFitter openToResume(Path run, Map<String, String> saved) {
        if (saved.isEmpty()) {
            return EpochFitter.LOCAL;
        }
        Integer w = number(saved, EpochFitterProvider.WORKERS_FIELD);
        Integer k = number(saved, EpochFitterProvider.AVERAGING_FREQUENCY_FIELD);
        if (w == null || k == null) {
            throw new IllegalArgumentException("the run in " + run + " was trained by a fitter with " + saved
                    + ", which the command line cannot resume");
        }
        if (spark == null && workers == null) {
            throw new IllegalArgumentException("the run in " + run + " trained data-parallel (" + w + " workers, "
                    + "averaging every " + k + " step(s)): resume it with --spark MASTER, or with --workers " + w
                    + " on this machine (ParallelWrapper)");
        }
        return open(w, k);
    }

    private static Integer number(Map<String, String> saved, String field) {
        String v = saved.get(field);
        return v == null ? null : Integer.valueOf(v);
    }

    private EpochFitter open(int workerCount, int k) {
        String name = spark != null ? SPARK : PARALLEL_WRAPPER;
        for (EpochFitterProvider p : ServiceLoader.load(EpochFitterProvider.class)) {
            if (p.name().equals(name)) {
                return p.open(spark == null ? "" : spark, workerCount, k);
            }
        }
        throw new IllegalArgumentException((spark != null ? "--spark" : "--workers") + " needs the optional module "
                + "repopt-spark on the class path: ./repopt adds it by itself; a Maven build adds it with "
                + "-Pcpu,spark (mvn -Pcpu,spark -DskipTests package -pl examples -am)");
    }
}
