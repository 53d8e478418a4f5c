package org.repopt.examples.cli;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.repopt.data.ImageDataset;
import org.repopt.gr.ScalesFile;
import org.repopt.model.VggSpec;
import org.repopt.train.ModelFamily;
import org.repopt.train.Recipe;
import org.repopt.train.TrainConfig;
import org.repopt.train.TrainResult;
import org.repopt.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code ./repopt train}: trains one model family on one data set, resumably. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train RepOpt-VGG, RepVGG, plain VGG or the Hyper-Search model on a data set.",
                "Checkpoints every epoch into --out (atomically); --resume continues an interrupted run exactly.",
                "Ends with the line test_accuracy=<top-1>."})
final class TrainCommand implements Callable<Integer> {

    @Mixin
    private DataArgs data;
    @Mixin
    private ModelArgs model;
    @Mixin
    private TrainArgs train;
    @Mixin
    private ListenerArgs listen;

    @Override
    public Integer call() throws Exception {
        listen.check(train.resume);
        Recipe recipe = data.recipe();
        ModelFamily family = model.family();
        ImageDataset ds = data.open(train.cropPadding(recipe));
        VggSpec spec = model.spec(ds);
        TrainConfig config = train.config(recipe, Path.of("runs", family.cliName() + "-"
                + model.variant.toLowerCase(Locale.ROOT) + "-" + ds.name()));
        listen.checkRunDir(config.outputDir());
        Trainer trainer = new Trainer(config, System.out);
        TrainResult result;
        if (train.resume) {
            result = trainer.resume(ds);
        } else {
            ScalesFile scales = model.scalesOrNull();
            ComputationGraph net = family.network(spec, DataType.FLOAT, config.seed(), scales, config.learningRate(),
                    train.momentum, train.weightDecay(recipe));
            RunInfo.of(family, model.variant, ds.name(), spec, scales == null ? null : model.scales)
                    .write(config.outputDir());
            ListenerArgs.Attached listeners = listen.attach(net, config.outputDir(),
                    config.outputDir().getFileName().toString(), System.out);
            try {
                result = trainer.train(net, ds);
            } finally {
                listeners.close();
            }
        }
        System.out.println(family.displayName() + "-" + spec.name() + " on " + ds.name() + ": " + result.summary());
        System.out.println("run folder: " + config.outputDir());
        System.out.printf(Locale.ROOT, "test_accuracy=%.4f%n", result.finalTest().top1());
        return 0;
    }
}
