package org.repopt.examples.cli;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.repopt.deploy.DeployModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code ./repopt export}: the deployable plain model of a training run. */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Write the deployable plain model of a ./repopt train run: RepVGG fused into one 3x3 conv per "
                + "block; RepOpt-VGG and VGG as trained (they are plain already); batch norm folded into the convs.",
                "The file is a ModelSerializer zip of stock DL4J classes only (no updater, no repopt-dl4j classes): "
                        + "any DL4J application loads it with ModelSerializer.restoreComputationGraph."})
final class ExportCommand implements Callable<Integer> {

    @Option(names = "--run", required = true, paramLabel = "DIR", description = "The run folder of ./repopt train.")
    private Path run;

    @Option(names = "--out", paramLabel = "FILE", description = "Where to write (default: DIR/deploy.zip).")
    private Path out;

    @Override
    public Integer call() throws Exception {
        RunInfo info = RunInfo.read(run);
        Path target = out != null ? out : run.resolve("deploy.zip");
        // every output is checked before anything is computed or written
        RunInfo.requireNotRunFile(target);
        DeployModel.requireFolder(target);
        ComputationGraph deploy = info.deployModel(run);
        DeployModel.write(deploy, target);
        System.out.println(info.family().displayName() + "-" + info.variant() + " deploy model (" + deploy.numParams()
                + " parameters): " + target);
        return 0;
    }
}
