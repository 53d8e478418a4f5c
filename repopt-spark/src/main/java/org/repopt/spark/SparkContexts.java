package org.repopt.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.config.DL4JSystemProperties;
import org.repopt.backend.OneDnnHelpers;

/**
 * Starts the Spark context training runs in, with what DL4J needs on the executors.
 *
 * <ul>
 *   <li>The master comes from the caller ({@code local[2]}, {@code spark://host:7077}, ...) or, when the caller gives
 *       none, from {@code spark-submit --master}; a caller's master that contradicts spark-submit's is refused.</li>
 *   <li>The executors get the driver's choice of DL4J's layer helpers (oneDNN, {@link OneDnnHelpers}) as a JVM option:
 *       a system property set in the driver does not reach executor JVMs.</li>
 *   <li>Java 17's {@code --add-opens} options reach the executors through Spark itself (3.3 adds its own list to
 *       {@code spark.executor.extraJavaOptions}); the driver JVM needs them on its command line
 *       ({@code spark-submit} adds them, {@code ./repopt} and the module's tests pass them).</li>
 *   <li>Broadcast networks of past averaging rounds are cleaned up every minute rather than every 30.</li>
 * </ul>
 */
public final class SparkContexts {

    /** The application name when none is configured. */
    public static final String DEFAULT_APP_NAME = "repopt-dl4j";

    private SparkContexts() {
    }

    /**
     * @param master  a Spark master URL, or empty to take spark-submit's
     * @param appName the application name, unless spark-submit set one
     * @return the configuration a training run's context starts with
     * @throws IllegalArgumentException when there is no master, or two different ones
     */
    public static SparkConf conf(String master, String appName) {
        SparkConf conf = new SparkConf(true);
        String submitted = conf.contains("spark.master") ? conf.get("spark.master") : null;
        if (master == null || master.isEmpty()) {
            if (submitted == null) {
                throw new IllegalArgumentException("no Spark master: give one (e.g. local[2], spark://host:7077, yarn) "
                        + "or launch with spark-submit --master");
            }
        } else if (submitted != null && !submitted.equals(master)) {
            throw new IllegalArgumentException("Spark master " + master + " contradicts spark-submit's --master "
                    + submitted + ": give one of them only");
        } else {
            conf.setMaster(master);
        }
        conf.setIfMissing("spark.app.name", appName);
        conf.setIfMissing("spark.cleaner.periodicGC.interval", "1min");
        OneDnnHelpers.enable();
        String helpers = "-D" + DL4JSystemProperties.DISABLE_HELPER_PROPERTY + "="
                + System.getProperty(DL4JSystemProperties.DISABLE_HELPER_PROPERTY);
        String options = conf.get("spark.executor.extraJavaOptions", "");
        if (!options.contains("-D" + DL4JSystemProperties.DISABLE_HELPER_PROPERTY + "=")) {
            conf.set("spark.executor.extraJavaOptions", (options.isEmpty() ? "" : options + " ") + helpers);
        }
        return conf;
    }

    /**
     * @param master  a Spark master URL, or empty to take spark-submit's
     * @param appName the application name, unless spark-submit set one
     * @return a started context; the caller stops it
     * @throws IllegalArgumentException when there is no master, or two different ones
     */
    public static JavaSparkContext start(String master, String appName) {
        return new JavaSparkContext(conf(master, appName));
    }
}
