package org.repopt.examples.bench;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.DataSet;
import org.repopt.nn.BlockEngine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Run in a fresh JVM per family by {@link Benchmark}: builds one family's network, trains a few iterations and
 * prints its peak resident set size ({@code VmHWM}) and its size before the network existed ({@code VmRSS}), in MB,
 * as {@code baseline_rss_mb=... peak_rss_mb=...}.
 */
public final class MemoryProbe {

    private MemoryProbe() {
    }

    /**
     * @param args preset, family, iterations, engine
     * @throws IOException when {@code /proc/self/status} cannot be read
     */
    public static void main(String[] args) throws IOException {
        if (args.length != 4) {
            throw new IllegalArgumentException("usage: MemoryProbe PRESET FAMILY ITERATIONS ENGINE");
        }
        Preset preset = Preset.parse(args[0]);
        BenchFamily family = BenchFamily.parse(args[1]);
        int iterations = Integer.parseInt(args[2]);
        BlockEngine engine = BlockEngine.parse(args[3]);
        DataSet batch = Benchmark.randomBatch(preset, 1);
        double baseline = statusMb("VmRSS");
        ComputationGraph net = family.network(preset, 1, engine);
        for (int i = 0; i < iterations; i++) {
            net.fit(batch);
        }
        System.out.printf(java.util.Locale.ROOT, "baseline_rss_mb=%.1f peak_rss_mb=%.1f%n", baseline,
                statusMb("VmHWM"));
    }

    /** @return a {@code /proc/self/status} memory field in MB */
    static double statusMb(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field + ":")) {
                String[] parts = line.substring(field.length() + 1).trim().split("\\s+");
                return Long.parseLong(parts[0]) / 1024.0;
            }
        }
        throw new IllegalStateException("/proc/self/status has no " + field + " line");
    }
}
