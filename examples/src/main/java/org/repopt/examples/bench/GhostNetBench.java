package org.repopt.examples.bench;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.DataSet;
import org.repopt.backend.OneDnnHelpers;
import org.repopt.gr.RepOptimizer;
import org.repopt.model.GhostNetSpec;
import org.repopt.model.ModelStats;
import org.repopt.model.RepOptGhostNet;
import org.repopt.model.VggSpec;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Training images/s of RepOpt-GhostNet-0.5x (the target with the RepOptimizer) against its Hyper-Search model (the
 * multi-branch ghost modules with trainable scales) and the same target with plain SGD, at a preset's input shape,
 * class count and batch, in one process: interleaved repetitions after a warm-up, median and spread.
 *
 * @param preset input shape, classes and batch
 * @param warmup untimed iterations per family before the first repetition
 * @param reps   timed repetitions
 * @param iters  training iterations per repetition and family
 */
public record GhostNetBench(Preset preset, int warmup, int reps, int iters) {

    /** The families compared. */
    public enum Family {
        /** The target with the RepOptimizer: Grad Mult on the cheap depthwise kernels. */
        REPOPT("repopt"),
        /** The same target with the same SGD recipe and no Grad Mult: what the Grad Mult costs. */
        PLAIN("plain"),
        /** The Hyper-Search model: cheap and fusion scales in the architecture. */
        HS("hs");

        private final String key;

        Family(String key) {
            this.key = key;
        }

        /** @return the key in the JSON output, prefixed by {@code ghostnet_} */
        public String key() {
            return key;
        }
    }

    /** Validates the settings. */
    public GhostNetBench {
        if (warmup < 0 || reps < 1 || iters < 1) {
            throw new IllegalArgumentException("warmup >= 0 and reps, iters >= 1 required, got " + warmup + ", " + reps
                    + ", " + iters);
        }
    }

    /** @return RepOpt-GhostNet-0.5x at the preset's input shape and class count */
    public GhostNetSpec spec() {
        VggSpec s = preset.spec();
        return GhostNetSpec.of(GhostNetSpec.RELEASED_WIDTH).withInput(s.inputChannels(), s.inputHeight(), s.inputWidth())
                .withClasses(s.numClasses());
    }

    /**
     * @param family the family
     * @param seed   initialization seed
     * @return its network, ready to train (the RepOptimizer's scales are the Hyper-Search starting values: the cost
     * does not depend on them)
     */
    public ComputationGraph network(Family family, long seed) {
        GhostNetSpec spec = spec();
        switch (family) {
            case REPOPT:
                return RepOptGhostNet.builder(spec).seed(seed).build()
                        .init(RepOptimizer.sgd(RepOptGhostNet.initialScales(spec)).learningRate(BenchFamily.LR)
                                .momentum(BenchFamily.MOMENTUM).weightDecay(BenchFamily.WEIGHT_DECAY));
            case PLAIN:
                return baseline().applyTo(RepOptGhostNet.builder(spec).seed(seed).build().conf());
            default:
                return baseline().applyTo(RepOptGhostNet.builder(spec).search().seed(seed).build().conf());
        }
    }

    private static RepOptimizer.Builder baseline() {
        return RepOptimizer.baselineSgd().learningRate(BenchFamily.LR).momentum(BenchFamily.MOMENTUM)
                .weightDecay(BenchFamily.WEIGHT_DECAY);
    }

    /**
     * Runs the comparison and returns the JSON object {@code --json} writes.
     *
     * @param out where progress lines go
     * @return the figures
     */
    public Map<String, Object> run(PrintStream out) {
        OneDnnHelpers.enable();
        DataSet batch = Benchmark.randomBatch(preset, 7);
        Map<Family, ComputationGraph> nets = new EnumMap<>(Family.class);
        for (Family f : Family.values()) {
            nets.put(f, network(f, 42));
            for (int i = 0; i < warmup; i++) {
                nets.get(f).fit(batch);
            }
            out.printf("warmed up ghostnet %s (%d iterations)%n", f.key(), warmup);
        }
        Map<Family, List<Double>> train = new EnumMap<>(Family.class);
        for (int rep = 0; rep < reps; rep++) {
            StringBuilder line = new StringBuilder();
            for (Family f : Family.values()) {
                long t0 = System.nanoTime();
                for (int i = 0; i < iters; i++) {
                    nets.get(f).fit(batch);
                }
                double ips = (double) iters * preset.batch() / ((System.nanoTime() - t0) / 1e9);
                train.computeIfAbsent(f, k -> new ArrayList<>()).add(ips);
                line.append(String.format(Locale.ROOT, "%s %.0f  ", f.key(), ips));
            }
            out.printf("repetition %d/%d: %simg/s%n", rep + 1, reps, line);
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("preset", preset.cliName());
        json.put("batch", preset.batch());
        json.put("ghostnet_model", RepOptGhostNet.builder(spec()).build().displayName());
        json.put("ghostnet_input", spec().inputShape());
        Map<String, Object> details = new LinkedHashMap<>();
        for (Family f : Family.values()) {
            Benchmark.Figure fig = Benchmark.Figure.of(train.get(f));
            json.put("ghostnet_" + f.key() + "_imgs_per_sec", fig.median());
            details.put(f.key(), Map.of("median", fig.median(), "min", fig.min(), "max", fig.max(), "reps", fig.reps()));
        }
        json.put("ghostnet", details);
        json.put("ghostnet_forward_macs_per_image", ModelStats.of(RepOptGhostNet.builder(spec()).build()).multiplyAccumulates());
        json.put("settings", Map.of("warmup", warmup, "reps", reps, "iters", iters, "interleaved", true));
        return json;
    }

    /**
     * @param f the figures of {@link #run}
     * @return the figures as a small table
     */
    public static String table(Map<String, Object> f) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s at %s, preset %s, batch %s%n", f.get("ghostnet_model"),
                f.get("ghostnet_input"), f.get("preset"), f.get("batch")));
        for (Family fam : Family.values()) {
            Object v = f.get("ghostnet_" + fam.key() + "_imgs_per_sec");
            sb.append(String.format(Locale.ROOT, "%-34s %10.1f%n", fam.key() + " train images/s", ((Number) v).doubleValue()));
        }
        double repopt = ((Number) f.get("ghostnet_repopt_imgs_per_sec")).doubleValue();
        sb.append(String.format(Locale.ROOT, "%-34s %10.3f%n", "RepOpt / Hyper-Search throughput",
                repopt / ((Number) f.get("ghostnet_hs_imgs_per_sec")).doubleValue()));
        sb.append(String.format(Locale.ROOT, "%-34s %10.3f%n", "RepOpt / plain SGD throughput",
                repopt / ((Number) f.get("ghostnet_plain_imgs_per_sec")).doubleValue()));
        return sb.toString();
    }
}
