package org.repopt.examples.bench;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.repopt.backend.OneDnn;
import org.repopt.backend.OneDnnHelpers;
import org.repopt.model.FusedVgg;
import org.repopt.model.ModelStats;
import org.repopt.model.RepOptVgg;
import org.repopt.nn.BlockEngine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Measures, in one run on one machine, training images/s of the four families (interleaved repetitions after a
 * warm-up, median and spread), the Grad Mult's cost as RepOpt's and Nesterovs' single steps timed alternately,
 * inference images/s of the deployed plain model, peak RSS of each family in a fresh JVM, and, when Debian's PyTorch
 * is present, the PyTorch peer on the same preset.
 *
 * @param preset     architecture and batch
 * @param warmup     untimed iterations per family before the first repetition
 * @param reps       timed repetitions
 * @param iters      training iterations per repetition and family
 * @param inferIters inference passes per repetition
 * @param stepPairs  pairs of single training steps of RepOpt and Nesterovs timed alternately ({@link StepTimes})
 * @param memIters   training iterations of each memory probe
 * @param memReps    memory probes per family (fresh JVMs, interleaved across families; the median counts: one
 *                   probe's peak RSS varies by a few percent with the allocator's and the JIT's timing)
 * @param pytorch    whether to run the PyTorch peer
 * @param repoRoot   the repository root (where {@code bench/pytorch_peer.py} lives)
 * @param engine     how the plain VGG's conv-BN-ReLU blocks are computed (RepOpt-VGG and Nesterovs)
 */
public record Benchmark(Preset preset, int warmup, int reps, int iters, int inferIters, int stepPairs, int memIters,
                        int memReps, boolean pytorch, Path repoRoot, BlockEngine engine) {

    private static final Logger LOG = LoggerFactory.getLogger(Benchmark.class);
    private static final String PYTHON = "/usr/bin/python3";
    private static final String PEER_SCRIPT = "bench/pytorch_peer.py";

    /** Validates the settings. */
    public Benchmark {
        if (warmup < 0 || reps < 1 || iters < 1 || inferIters < 1 || stepPairs < 1 || memIters < 1 || memReps < 1) {
            throw new IllegalArgumentException("warmup >= 0 and reps, iters, infer-iters, step-pairs, mem-iters, "
                    + "mem-reps >= 1 required, got " + warmup + ", " + reps + ", " + iters + ", " + inferIters + ", "
                    + stepPairs + ", " + memIters + ", " + memReps);
        }
    }

    /** Median and spread of one figure over the repetitions. */
    public record Figure(double median, double min, double max, List<Double> reps) {
        static Figure of(List<Double> values) {
            double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            return new Figure(quantile(v, 0.5), v[0], v[v.length - 1], List.copyOf(values));
        }

        /** @return the first quartile, the median and the third quartile */
        List<Double> quartiles() {
            double[] v = reps.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            return List.of(quantile(v, 0.25), median, quantile(v, 0.75));
        }

        /** The {@code q}-quantile of sorted values, linear between neighbours (the median of an even count is the
         * mean of the middle two). */
        private static double quantile(double[] sorted, double q) {
            double pos = q * (sorted.length - 1);
            int lo = (int) Math.floor(pos);
            int hi = Math.min(lo + 1, sorted.length - 1);
            return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
        }
    }

    /**
     * @param preset architecture and batch
     * @param seed   seed
     * @return a fixed random batch of the preset's shape with one-hot labels (generated once, never timed)
     */
    static DataSet randomBatch(Preset preset, long seed) {
        var spec = preset.spec();
        Random r = new Random(seed);
        int n = preset.batch();
        float[] x = new float[n * spec.inputChannels() * spec.inputHeight() * spec.inputWidth()];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        INDArray labels = Nd4j.zeros(DataType.FLOAT, n, spec.numClasses());
        for (int i = 0; i < n; i++) {
            labels.putScalar(i, r.nextInt(spec.numClasses()), 1.0);
        }
        return new DataSet(Nd4j.create(x, new long[]{n, spec.inputChannels(), spec.inputHeight(), spec.inputWidth()}),
                labels);
    }

    /**
     * Runs everything and returns the JSON object {@code --json} writes.
     *
     * @param out where progress lines go
     * @return the figures
     */
    public Map<String, Object> run(PrintStream out) throws IOException, InterruptedException {
        OneDnnHelpers.enable();
        DataSet batch = randomBatch(preset, 7);
        Map<BenchFamily, ComputationGraph> nets = new EnumMap<>(BenchFamily.class);
        for (BenchFamily f : BenchFamily.values()) {
            nets.put(f, f.network(preset, 42, engine));
            for (int i = 0; i < warmup; i++) {
                nets.get(f).fit(batch);
            }
            out.printf("warmed up %s (%d iterations)%n", f.key(), warmup);
        }
        ComputationGraph deploy = FusedVgg.builder(preset.spec()).build().init();
        for (int i = 0; i < warmup; i++) {
            deploy.outputSingle(false, batch.getFeatures());
        }
        Map<BenchFamily, List<Double>> train = new EnumMap<>(BenchFamily.class);
        Map<BenchFamily, List<Double>> update = new EnumMap<>(BenchFamily.class);
        Map<BenchFamily, UpdateTimer> timers = new EnumMap<>(BenchFamily.class);
        nets.forEach((f, net) -> {
            timers.put(f, new UpdateTimer());
            net.addListeners(timers.get(f));
        });
        List<Double> infer = new ArrayList<>();
        for (int rep = 0; rep < reps; rep++) {
            for (BenchFamily f : familyOrder(rep)) {
                ComputationGraph net = nets.get(f);
                long t0 = System.nanoTime();
                for (int i = 0; i < iters; i++) {
                    net.fit(batch);
                }
                double ips = (double) iters * preset.batch() / ((System.nanoTime() - t0) / 1e9);
                train.computeIfAbsent(f, k -> new ArrayList<>()).add(ips);
                update.computeIfAbsent(f, k -> new ArrayList<>()).add(timers.get(f).takeMillisPerStep());
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < inferIters; i++) {
                deploy.outputSingle(false, batch.getFeatures());
            }
            infer.add((double) inferIters * preset.batch() / ((System.nanoTime() - t0) / 1e9));
            out.printf("repetition %d/%d: %s%n", rep + 1, reps, lastOf(train));
        }
        StepTimes steps = StepTimes.alternate(nets.get(BenchFamily.REPOPT), nets.get(BenchFamily.NESTEROVS),
                batch, stepPairs);
        out.printf("step by step (%d pairs): repopt %.2f ms, nesterovs %.2f ms (medians)%n", stepPairs,
                steps.a().median(), steps.b().median());
        nets.clear();

        Map<BenchFamily, List<Double>> baselines = new EnumMap<>(BenchFamily.class);
        Map<BenchFamily, List<Double>> peaks = new EnumMap<>(BenchFamily.class);
        for (int rep = 0; rep < memReps; rep++) {
            for (BenchFamily f : List.of(BenchFamily.REPOPT, BenchFamily.REPVGG, BenchFamily.NESTEROVS,
                    BenchFamily.HS)) {
                double[] probe = probeMemory(f);
                baselines.computeIfAbsent(f, k -> new ArrayList<>()).add(probe[0]);
                peaks.computeIfAbsent(f, k -> new ArrayList<>()).add(probe[1]);
                out.printf("peak RSS %s (probe %d/%d): %.0f MB%n", f.key(), rep + 1, memReps, probe[1]);
            }
        }
        Map<BenchFamily, double[]> memory = new EnumMap<>(BenchFamily.class);
        peaks.forEach((f, v) -> memory.put(f, new double[]{Figure.of(baselines.get(f)).median(),
                Figure.of(v).median()}));

        Map<String, Object> json = new LinkedHashMap<>();
        json.put("preset", preset.cliName());
        json.put("batch", preset.batch());
        json.put("engine", engine.cliName());
        for (BenchFamily f : BenchFamily.values()) {
            json.put(f.key() + "_imgs_per_sec", Figure.of(train.get(f)).median());
        }
        for (BenchFamily f : BenchFamily.values()) {
            json.put(f.key() + "_update_ms_per_step", Figure.of(update.get(f)).median());
        }
        json.put("repopt_over_nesterovs_paired", Figure.of(pairedRatios(train.get(BenchFamily.REPOPT),
                train.get(BenchFamily.NESTEROVS))).median());
        json.put("repopt_over_nesterovs_steps", steps.aOverB());
        json.put("repopt_step_ms", steps.a().median());
        json.put("nesterovs_step_ms", steps.b().median());
        json.put("deploy_infer_imgs_per_sec", Figure.of(infer).median());
        json.put("repopt_peak_rss_mb", memory.get(BenchFamily.REPOPT)[1]);
        json.put("repvgg_peak_rss_mb", memory.get(BenchFamily.REPVGG)[1]);
        json.put("nesterovs_peak_rss_mb", memory.get(BenchFamily.NESTEROVS)[1]);
        json.put("hs_peak_rss_mb", memory.get(BenchFamily.HS)[1]);
        json.put("memory_method", "peak RSS (VmHWM) of a fresh JVM per family that builds the network and trains "
                + memIters + " iterations, median of " + memReps + " such JVMs per family (interleaved); baseline = "
                + "RSS before the network existed; the JVMs' class path has " + classPathJars() + " jars");
        Map<String, Object> details = new LinkedHashMap<>();
        for (BenchFamily f : BenchFamily.values()) {
            Figure fig = Figure.of(train.get(f));
            details.put(f.key(), Map.of("median", fig.median(), "min", fig.min(), "max", fig.max(), "reps", fig.reps(),
                    "update_ms_per_step_reps", update.get(f),
                    "baseline_rss_mb", memory.get(f)[0], "peak_rss_mb", memory.get(f)[1],
                    "peak_rss_mb_probes", peaks.get(f)));
        }
        details.put("step_by_step", Map.of("method", StepTimes.METHOD, "pairs", stepPairs,
                "repopt_step_ms", steps.a().reps(), "nesterovs_step_ms", steps.b().reps(),
                "repopt_step_ms_quartiles", steps.a().quartiles(), "nesterovs_step_ms_quartiles",
                steps.b().quartiles()));
        Figure inf = Figure.of(infer);
        details.put("deploy_infer", Map.of("median", inf.median(), "min", inf.min(), "max", inf.max(), "reps", inf.reps()));
        json.put("dl4j", details);
        long macs = ModelStats.of(RepOptVgg.builder(preset.spec()).build()).multiplyAccumulates();
        json.put("repopt_forward_macs_per_image", macs);
        // training FLOPs: 2 per MAC, forward plus a backward of twice the forward's work
        json.put("repopt_train_gflops_per_sec", 6.0 * macs * Figure.of(train.get(BenchFamily.REPOPT)).median() / 1e9);
        json.put("settings", Map.of("warmup", warmup, "reps", reps, "iters", iters, "infer_iters", inferIters,
                "mem_iters", memIters, "mem_reps", memReps, "step_pairs", stepPairs, "interleaved",
                "families in the order " + familyOrder(0) + " in even repetitions, reversed in odd ones"));
        json.put("machine", machine());
        if (pytorch) {
            peer(out, json);
        } else {
            json.put("pytorch", "not run (--no-pytorch)");
        }
        return json;
    }

    /**
     * @param rep a repetition's index
     * @return the families in the order repetition {@code rep} trains them: as declared in even repetitions, reversed
     *     in odd ones, so that no family always runs right after the same one (the deployed model's inference runs
     *     between repetitions) and a drift of the machine's speed within a repetition falls on both sides of the
     *     RepOpt / Nesterovs pair alike; RepOpt and Nesterovs stay adjacent for the paired ratio
     */
    static List<BenchFamily> familyOrder(int rep) {
        List<BenchFamily> order = new ArrayList<>(List.of(BenchFamily.values()));
        if (rep % 2 == 1) {
            Collections.reverse(order);
        }
        return order;
    }

    /** @return {@code a[i] / b[i]} per repetition: both families ran back to back, so the VM's drift mostly cancels */
    static List<Double> pairedRatios(List<Double> a, List<Double> b) {
        List<Double> out = new ArrayList<>(a.size());
        for (int i = 0; i < a.size(); i++) {
            out.add(a.get(i) / b.get(i));
        }
        return out;
    }

    private static String lastOf(Map<BenchFamily, List<Double>> train) {
        StringBuilder sb = new StringBuilder();
        train.forEach((f, v) -> sb.append(String.format(java.util.Locale.ROOT, "%s %.0f  ", f.key(), v.get(v.size() - 1))));
        return sb.toString().trim() + " img/s";
    }

    /**
     * @return how many jars the memory probes' class path holds: a Spark build's command line carries about 130 more,
     * which add about 60 MB of RSS to every family (the JVM maps the jars it searches)
     */
    private static long classPathJars() {
        return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(e -> e.endsWith(".jar") || e.endsWith("*")).mapToLong(e -> {
                    if (!e.endsWith("*")) {
                        return 1;
                    }
                    File[] jars = new File(e.substring(0, e.length() - 1))
                            .listFiles((d, n) -> n.endsWith(".jar"));
                    return jars == null ? 0 : jars.length;
                }).sum();
    }

    private double[] probeMemory(BenchFamily f) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(MemoryProbe.class.getName());
        cmd.add(preset.cliName());
        cmd.add(f.key());
        cmd.add(Integer.toString(memIters));
        cmd.add(engine.cliName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String last = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                last = line;
            }
        }
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0 || last == null || !last.startsWith("baseline")) {
            throw new IllegalStateException("memory probe of " + f.key() + " failed (exit "
                    + (p.isAlive() ? "timeout" : p.exitValue()) + "): " + last);
        }
        String[] parts = last.split("\\s+");
        return new double[]{Double.parseDouble(parts[0].split("=")[1]), Double.parseDouble(parts[1].split("=")[1])};
    }

    private void peer(PrintStream out, Map<String, Object> json) throws IOException, InterruptedException {
        Path script = repoRoot.resolve(PEER_SCRIPT);
        if (!Files.isRegularFile(script) || !Files.isExecutable(Path.of(PYTHON))) {
            json.put("pytorch", "PyTorch peer not available: " + (Files.isRegularFile(script) ? PYTHON : script)
                    + " missing");
            out.println("PyTorch peer not available (" + json.get("pytorch") + ")");
            return;
        }
        Path result = Files.createTempFile("pytorch-peer", ".json");
        try {
            List<String> cmd = List.of(PYTHON, script.toString(), "--preset", preset.cliName(), "--json",
                    result.toString(), "--threads", Integer.toString(Runtime.getRuntime().availableProcessors()),
                    "--reps", Integer.toString(reps), "--mem-iters", Integer.toString(memIters));
            out.println("running the PyTorch peer: " + String.join(" ", cmd));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    out.println("  [pytorch] " + line);
                }
            }
            int exit = p.waitFor();
            if (exit != 0) {
                json.put("pytorch", "PyTorch peer not available: exit " + exit);
                return;
            }
            JsonNode peer = new ObjectMapper().readTree(result.toFile());
            for (var it = peer.fields(); it.hasNext(); ) {
                var e = it.next();
                if (e.getKey().startsWith("pytorch_")) {
                    json.put(e.getKey(), e.getValue().isNull() ? null : e.getValue().asDouble());
                }
            }
            json.put("pytorch", new ObjectMapper().convertValue(peer, Map.class));
        } finally {
            Files.deleteIfExists(result);
        }
    }

    private static Map<String, Object> machine() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cpu_model", Machine.cpuField("model name"));
        m.put("cpu_mhz", Machine.cpuField("cpu MHz"));
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("backend", OneDnnHelpers.backendName() + (OneDnnHelpers.isCpuBackend() && OneDnnHelpers.helpersRequested()
                ? " (nd4j-native, oneDNN layer helpers on)" : ""));
        m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        m.put("onednn", OneDnn.describe());
        m.put("cpu_flags_avx512", Machine.cpuField("flags").contains("avx512f"));
        return m;
    }

    /** @return the arguments in one line, for the report */
    @Override
    public String toString() {
        return "preset=" + preset.cliName() + " warmup=" + warmup + " reps=" + reps + " iters=" + iters
                + " infer-iters=" + inferIters + " step-pairs=" + stepPairs + " mem-iters=" + memIters + " pytorch="
                + pytorch + " engine=" + engine.cliName();
    }
}
