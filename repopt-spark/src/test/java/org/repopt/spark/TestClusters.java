package org.repopt.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Spark contexts for the tests. {@code local-cluster[N,cores,MB]} starts a master, N workers and N executor JVMs,
 * so networks and data really cross process boundaries as on a cluster. Its workers launch executors through
 * {@code $SPARK_HOME} (the pom sets it to {@code target/spark-home}): a folder with a {@code RELEASE} file and a
 * {@code jars/} folder, which {@link #sparkHome()} fills with links to this JVM's class path jars; the class
 * folders (main and test classes) go to {@code spark.executor.extraClassPath}.
 */
final class TestClusters {

    private TestClusters() {
    }

    /** @return a context with two executor JVMs of one core and 1 GiB each */
    static JavaSparkContext localCluster() {
        String folders = sparkHome();
        SparkConf conf = SparkContexts.conf("local-cluster[2,1,1024]", "repopt-spark-test")
                .set("spark.executor.extraClassPath", folders);
        return quiet(conf);
    }

    /** @return a context running {@code threads} tasks at once in this JVM */
    static JavaSparkContext local(int threads) {
        return quiet(SparkContexts.conf("local[" + threads + "]", "repopt-spark-test"));
    }

    private static JavaSparkContext quiet(SparkConf conf) {
        return new JavaSparkContext(conf.set("spark.ui.enabled", "false"));
    }

    /**
     * Fills {@code $SPARK_HOME} for local-cluster executors.
     *
     * @return the class folders of this JVM's class path, joined for {@code spark.executor.extraClassPath}
     */
    private static String sparkHome() {
        String home = System.getenv("SPARK_HOME");
        if (home == null) {
            throw new IllegalStateException("SPARK_HOME is not set: run the tests through Maven (the pom sets it)");
        }
        try {
            Path jars = Path.of(home, "jars");
            Files.createDirectories(jars);
            Files.writeString(Path.of(home, "RELEASE"), "repopt-spark test home: links to the test class path\n");
            List<String> folders = new ArrayList<>();
            // surefire runs the tests from a manifest-only jar; the class path proper is in this property
            String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
            for (String entry : classPath.split(File.pathSeparator)) {
                Path p = Path.of(entry).toAbsolutePath();
                if (Files.isDirectory(p)) {
                    folders.add(p.toString());
                } else if (entry.endsWith(".jar")) {
                    Path link = jars.resolve(p.getFileName());
                    if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                        Files.createSymbolicLink(link, p);
                    }
                }
            }
            return String.join(File.pathSeparator, folders);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the local-cluster SPARK_HOME " + home, e);
        }
    }
}
