package org.repopt.examples.cli;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.repopt.io.AtomicFiles;
import org.repopt.model.RepVgg;
import org.repopt.train.ModelFamily;
import org.repopt.train.Trainer;
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
        ModelFamily family = info.family();
        if (family == ModelFamily.HS) {
            throw new IllegalArgumentException("the Hyper-Search model is not a deploy model: run ./repopt search to "
                    + "export its scales, then train RepOpt-VGG with them");
        }
        Path checkpoint = Trainer.latestCheckpoint(run).orElseThrow(
                () -> new IllegalArgumentException(run + " holds no checkpoint yet"));
        ComputationGraph trained = ModelSerializer.restoreComputationGraph(checkpoint.toFile(), false);
        ComputationGraph deploy = family == ModelFamily.REPVGG
                ? RepVgg.builder(info.spec()).build().deploy(trained) : trained;
        Path target = out != null ? out : run.resolve("deploy.zip");
        AtomicFiles.write(target, o -> ModelSerializer.writeModel(deploy, o, false));
        System.out.println(family.displayName() + "-" + info.variant() + " deploy model (" + deploy.numParams()
                + " parameters): " + target);
        return 0;
    }
}
