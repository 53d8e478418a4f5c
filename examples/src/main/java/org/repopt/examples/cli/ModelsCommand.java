package org.repopt.examples.cli;

import org.repopt.model.CslaVgg;
import org.repopt.model.GhostNetSpec;
import org.repopt.model.ModelStats;
import org.repopt.model.RepOptGhostNet;
import org.repopt.model.RepOptVgg;
import org.repopt.model.RepVgg;
import org.repopt.model.Variant;
import org.repopt.model.VggModel;
import org.repopt.model.VggSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** {@code ./repopt models}: the built-in variants of every family, with size and cost. */
@Command(name = "models", mixinStandardHelpOptions = true,
        description = "List the built-in variants and families: trainable parameters, multiply-accumulates per image "
                + "(macs, what the paper's \"FLOPs\" column counts), input.")
final class ModelsCommand implements Runnable {

    /** RepOpt-GhostNet widths listed: the released scales' width and the reference's 1.0x. */
    private static final double[] GHOSTNET_WIDTHS = {GhostNetSpec.RELEASED_WIDTH, 1.0};

    @Option(names = "--classes", description = "Classifier outputs (default: each variant's own, 1000 / 10).")
    private Integer classes;

    @picocli.CommandLine.Spec
    private picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        List<VggSpec> specs = new ArrayList<>();
        for (Variant v : Variant.values()) {
            specs.add(v.spec());
        }
        specs.add(VggSpec.small());
        for (VggSpec s : specs) {
            VggSpec sized = classes == null ? s : s.withClasses(classes);
            for (VggModel m : List.of(RepOptVgg.builder(sized).build(), RepVgg.builder(sized).build(),
                    CslaVgg.builder(sized).build())) {
                ModelStats stats = ModelStats.of(m);
                out.printf(Locale.ROOT, "%-16s %s  input=%s%n", m.displayName(), stats.describe(), sized.inputShape());
            }
        }
        for (double width : GHOSTNET_WIDTHS) {
            GhostNetSpec g = GhostNetSpec.of(width);
            GhostNetSpec sized = classes == null ? g : g.withClasses(classes);
            for (RepOptGhostNet m : List.of(RepOptGhostNet.builder(sized).build(),
                    RepOptGhostNet.builder(sized).search().build())) {
                ModelStats stats = ModelStats.of(m);
                out.printf(Locale.ROOT, "%-22s %s  input=%s  (%,d parameters)%n", m.displayName(), stats.describe(),
                        sized.inputShape(), stats.trainableParams());
            }
        }
        out.flush();
    }
}
