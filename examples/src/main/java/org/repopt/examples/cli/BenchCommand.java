package org.repopt.examples.cli;

import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.SerializationFeature;
import org.repopt.examples.bench.Benchmark;
import org.repopt.examples.bench.GhostNetBench;
import org.repopt.examples.bench.Preset;
import org.repopt.io.AtomicFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code ./repopt bench}: training and inference speed and memory of every family, with the PyTorch peer. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measure training images/s of RepOpt-VGG (RepOptimizer), the same plain VGG with stock "
                + "Nesterovs, RepVGG and the Hyper-Search model (interleaved repetitions after a warm-up; median and "
                + "spread), the Grad Mult's cost (single steps of RepOpt and Nesterovs timed alternately), inference "
                + "images/s of the deployed plain model, and peak RSS of each family in a fresh JVM; then the PyTorch "
                + "peer (bench/pytorch_peer.py with /usr/bin/python3) on the same preset.",
                "Presets: small (Fashion-MNIST-size net, batch 64), b1-cifar (RepOpt-VGG-B1 widths at 32x32, batch 32)."})
final class BenchCommand implements Callable<Integer> {

    @Option(names = "--preset", defaultValue = "small", paramLabel = "NAME",
            description = "small (default) or b1-cifar.")
    private String preset;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write every figure as one JSON object.")
    private Path json;

    @Option(names = "--warmup", paramLabel = "N", description = "Untimed iterations per family (default: 10 / 3).")
    private Integer warmup;

    @Option(names = "--reps", paramLabel = "N", description = "Timed repetitions (default: 5 / 3).")
    private Integer reps;

    @Option(names = "--iters", paramLabel = "N", description = "Iterations per repetition (default: 30 / 8).")
    private Integer iters;

    @Option(names = "--infer-iters", paramLabel = "N", description = "Inference passes per repetition "
            + "(default: 30 / 8).")
    private Integer inferIters;

    @Option(names = "--step-pairs", paramLabel = "N", description = "Single steps of RepOpt and of Nesterovs timed "
            + "alternately, for the Grad Mult's cost (default: 300 / 30).")
    private Integer stepPairs;

    @Option(names = "--mem-iters", paramLabel = "N", description = "Iterations of each memory probe (default: 10 / 3).")
    private Integer memIters;

    @Option(names = "--mem-reps", paramLabel = "N", description = "Memory probes per family, each a fresh JVM; the "
            + "median counts (default: 3).")
    private Integer memReps;

    @Option(names = "--no-pytorch", description = "Skip the PyTorch peer.")
    private boolean noPytorch;

    @Mixin
    private EngineArgs engine;

    @Option(names = "--ghostnet", description = "Instead: RepOpt-GhostNet-0.5x (RepOptimizer) against its Hyper-Search "
            + "model and the same target with plain SGD, training images/s at the preset's input shape, classes and "
            + "batch (--warmup, --reps, --iters apply).")
    private boolean ghostnet;

    @Override
    public Integer call() throws Exception {
        Preset p = Preset.parse(preset);
        boolean small = p == Preset.SMALL;
        if (ghostnet) {
            GhostNetBench gb = new GhostNetBench(p, or(warmup, small ? 10 : 3), or(reps, small ? 5 : 3),
                    or(iters, small ? 30 : 8));
            System.out.println("bench --ghostnet " + gb);
            Map<String, Object> figures = gb.run(System.out);
            System.out.println();
            System.out.print(GhostNetBench.table(figures));
            writeJson(figures);
            return 0;
        }
        Benchmark bench = new Benchmark(p, or(warmup, small ? 10 : 3), or(reps, small ? 5 : 3), or(iters, small ? 30 : 8),
                or(inferIters, small ? 30 : 8), or(stepPairs, small ? 300 : 30), or(memIters, small ? 10 : 3),
                or(memReps, 3), !noPytorch,
                Path.of(System.getProperty("repopt.home", ".")), engine.engine());
        System.out.println("bench " + bench);
        Map<String, Object> figures = bench.run(System.out);
        System.out.println();
        System.out.print(table(figures));
        writeJson(figures);
        return 0;
    }

    private void writeJson(Map<String, Object> figures) throws java.io.IOException {
        if (json != null) {
            byte[] bytes = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(figures);
            AtomicFiles.write(json, o -> o.write(bytes));
            System.out.println("wrote " + json);
        }
    }

    private static int or(Integer v, int d) {
        return v != null ? v : d;
    }

    private static String table(Map<String, Object> f) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "preset %s, batch %s, engine %s, %s%n", f.get("preset"), f.get("batch"),
                f.get("engine"), ((Map<?, ?>) f.get("machine")).get("cpu_model")));
        sb.append(String.format(Locale.ROOT, "%-28s %14s %14s%n", "", "DL4J", "PyTorch"));
        for (String k : new String[]{"repopt", "nesterovs", "repvgg", "hs"}) {
            sb.append(String.format(Locale.ROOT, "%-28s %14s %14s%n", k + " train images/s", fmt(f.get(k + "_imgs_per_sec")),
                    fmt(f.get("pytorch_" + k + "_imgs_per_sec"))));
        }
        sb.append(String.format(Locale.ROOT, "%-28s %14s %14s%n", "deploy inference images/s",
                fmt(f.get("deploy_infer_imgs_per_sec")), fmt(f.get("pytorch_deploy_infer_imgs_per_sec"))));
        for (String k : new String[]{"repopt", "nesterovs", "repvgg", "hs"}) {
            sb.append(String.format(Locale.ROOT, "%-28s %14s %14s%n", k + " peak RSS MB", fmt(f.get(k + "_peak_rss_mb")),
                    fmt(f.get("pytorch_" + k + "_peak_rss_mb"))));
        }
        sb.append(String.format(Locale.ROOT, "%-28s %14s %14s%n", "RepOpt / RepVGG throughput",
                ratio(f.get("repopt_imgs_per_sec"), f.get("repvgg_imgs_per_sec")),
                ratio(f.get("pytorch_repopt_imgs_per_sec"), f.get("pytorch_repvgg_imgs_per_sec"))));
        sb.append(String.format(Locale.ROOT, "%-28s %14s %14s%n", "RepOpt / Nesterovs throughput",
                ratio(f.get("repopt_imgs_per_sec"), f.get("nesterovs_imgs_per_sec")),
                ratio(f.get("pytorch_repopt_imgs_per_sec"), f.get("pytorch_nesterovs_imgs_per_sec"))));
        sb.append(String.format(Locale.ROOT, "%-28s %14s%n", "RepOpt / Nesterovs, paired",
                fmt3(f.get("repopt_over_nesterovs_paired"))));
        sb.append(String.format(Locale.ROOT, "%-28s %14s%n", "RepOpt / Nesterovs, by step",
                fmt3(f.get("repopt_over_nesterovs_steps"))));
        sb.append(String.format(Locale.ROOT, "%-28s %14s%n", "step ms RepOpt/Nest.",
                fmt3(f.get("repopt_step_ms")) + " / " + fmt3(f.get("nesterovs_step_ms"))));
        sb.append(String.format(Locale.ROOT, "%-28s %14s%n", "update ms/step RepOpt/Nest.",
                fmt3(f.get("repopt_update_ms_per_step")) + " / " + fmt3(f.get("nesterovs_update_ms_per_step"))));
        sb.append(String.format(Locale.ROOT, "%-28s %14s %14s%n", "RepOpt / RepVGG peak RSS",
                ratio(f.get("repopt_peak_rss_mb"), f.get("repvgg_peak_rss_mb")),
                ratio(f.get("pytorch_repopt_peak_rss_mb"), f.get("pytorch_repvgg_peak_rss_mb"))));
        sb.append(String.format(Locale.ROOT, "%-28s %14s %14s%n", "RepOpt / Nesterovs peak RSS",
                ratio(f.get("repopt_peak_rss_mb"), f.get("nesterovs_peak_rss_mb")),
                ratio(f.get("pytorch_repopt_peak_rss_mb"), f.get("pytorch_nesterovs_peak_rss_mb"))));
        sb.append(String.format(Locale.ROOT, "%-28s %14s%n", "DL4J / PyTorch (RepOpt)",
                ratio(f.get("repopt_imgs_per_sec"), f.get("pytorch_repopt_imgs_per_sec"))));
        sb.append(String.format(Locale.ROOT, "%-28s %14s%n", "RepOpt peak RSS DL4J/PyTorch",
                ratio(f.get("repopt_peak_rss_mb"), f.get("pytorch_repopt_peak_rss_mb"))));
        sb.append(String.format(Locale.ROOT, "%-28s %14s%n", "RepOpt training GFLOP/s", fmt(f.get("repopt_train_gflops_per_sec"))));
        return sb.toString();
    }

    private static String fmt(Object v) {
        return v instanceof Number ? String.format(Locale.ROOT, "%.1f", ((Number) v).doubleValue()) : "n/a";
    }

    private static String fmt3(Object v) {
        return v instanceof Number ? String.format(Locale.ROOT, "%.3f", ((Number) v).doubleValue()) : "n/a";
    }

    private static String ratio(Object a, Object b) {
        if (a instanceof Number && b instanceof Number && ((Number) b).doubleValue() != 0) {
            return String.format(Locale.ROOT, "%.3f", ((Number) a).doubleValue() / ((Number) b).doubleValue());
        }
        return "n/a";
    }
}
