package org.repopt.examples.cli;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.repopt.io.AtomicFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code ./repopt export}: the deployable plain model of a training run. */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Write the deployable plain model of a ./repopt train run: RepVGG fused into one 3x3 conv per "
                + "block; RepOpt-VGG and VGG as trained (they are plain already).",
                "The file is a ModelSerializer zip without updater state."})
final class ExportCommand implements Callable<Integer> {

    @Option(names = "--run", required = true, paramLabel = "DIR", description = "The run folder of ./repopt train.")
    private Path run;

    @Option(names = "--out", paramLabel = "FILE", description = "Where to write (default: DIR/deploy.zip).")
    private Path out;

    @Override
    public Integer call() throws Exception {
        RunInfo info = RunInfo.read(run);
        ComputationGraph deploy = info.deployModel(run);
        Path target = out != null ? out : run.resolve("deploy.zip");
        RunInfo.requireNotRunFile(target);
        AtomicFiles.write(target, o -> ModelSerializer.writeModel(deploy, o, false));
        System.out.println(info.family().displayName() + "-" + info.variant() + " deploy model (" + deploy.numParams()
                + " parameters): " + target);
        return 0;
    }
}
