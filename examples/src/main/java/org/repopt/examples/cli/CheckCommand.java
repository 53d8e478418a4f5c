package org.repopt.examples.cli;

import org.deeplearning4j.nn.conf.inputs.InputType;
import org.repopt.check.EquivalenceCheck;
import org.repopt.check.EquivalenceReport;
import org.repopt.gr.BlockScales;
import org.repopt.gr.GrSites;
import org.repopt.gr.NetworkConfigFile;
import org.repopt.gr.ScalesFile;
import org.repopt.search.CslaTwin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code ./repopt check}: the equivalence check on the user's own network. */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = {"The equivalence check on your own network: its CSLA twin (the scales as constants) trained "
                + "with plain SGD next to the plain network trained with the RepOptimizer, in double precision, on "
                + "random data of the network's input type.",
                "Prints the GR sites, then per re-parameterized layer the largest relative kernel gap over every step, "
                        + "and ends with max_relative_gap=<x>.",
                "Exit 0 when every gap <= 1e-9, 1 when one is larger or the scales do not fit the network."})
final class CheckCommand implements Callable<Integer> {

    @Option(names = "--graph", required = true, paramLabel = "FILE.json",
            description = "Your network: ComputationGraphConfiguration or MultiLayerConfiguration, as toJson() writes it.")
    private Path graph;

    @Option(names = "--scales", required = true, paramLabel = "FILE",
            description = "Scales keyed by the network's conv layer names (./repopt search --graph writes them).")
    private Path scales;

    @Option(names = "--steps", defaultValue = "20", paramLabel = "N",
            description = "Training steps (default: ${DEFAULT-VALUE}).")
    private int steps;

    @Option(names = "--ablate", description = "Also show the gaps without the Rule of Initialization and without "
            + "Grad Mult (what the check detects).")
    private boolean ablate;

    @Option(names = "--by-order", description = "Map the scales' blocks to the network's 3x3 convs in forward order "
            + "(as RepOptimizer does by default) instead of by layer name: for scales named otherwise, e.g. those of "
            + "./repopt search --variant (stage1.0 for the conv stage1.0.conv3x3).")
    private boolean byOrder;

    @Option(names = "--input", paramLabel = "C,H,W", description = "The input shape, where the configuration does not "
            + "tell it (default: read from the configuration).")
    private String input;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        NetworkConfigFile net = GraphArgs.read(graph);
        ScalesFile s = GraphArgs.scales(scales);
        EquivalenceCheck.Builder b = EquivalenceCheck.builder().steps(steps);
        if (ablate) {
            b.ablate();
        }
        if (input != null) {
            b.inputType(inputType(input));
        }
        System.out.print(GrSites.find(net.graph()).toText());
        EquivalenceReport report;
        try {
            List<BlockScales> blocks = byOrder ? CslaTwin.keyedByForwardOrder(net.graph(), s.blocks()) : s.blocks();
            report = b.build().run(net, blocks);
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println("error: the scales " + scales + " do not fit " + net.kind() + " "
                    + graph + ": " + e.getMessage());
            return 1;
        }
        System.out.println(report.toText());
        return report.passed() ? 0 : 1;
    }

    /** @return the input type of {@code C,H,W} */
    static InputType inputType(String chw) {
        String[] p = chw.split(",");
        try {
            if (p.length == 3) {
                return InputType.convolutional(Long.parseLong(p[1].trim()), Long.parseLong(p[2].trim()),
                        Long.parseLong(p[0].trim()));
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("--input " + chw + ": expected channels,height,width, e.g. 1,28,28");
    }
}
