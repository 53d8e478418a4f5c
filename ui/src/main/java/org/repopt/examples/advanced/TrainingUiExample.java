package org.repopt.examples.advanced;

import org.deeplearning4j.config.DL4JSystemProperties;
import org.deeplearning4j.core.storage.StatsStorage;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.optimize.listeners.ScoreIterationListener;
import org.deeplearning4j.ui.api.UIServer;
import org.deeplearning4j.ui.model.stats.StatsListener;
import org.deeplearning4j.ui.model.storage.FileStatsStorage;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.dataset.ViewIterator;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.repopt.data.Datasets;
import org.repopt.data.EpochBatches;
import org.repopt.data.ImageDataset;
import org.repopt.data.Subset;
import org.repopt.gr.RepOptimizer;
import org.repopt.io.AtomicFiles;
import org.repopt.model.CslaVgg;
import org.repopt.model.RepOptVgg;
import org.repopt.model.VggSpec;
import org.repopt.train.GradMultEffectListener;
import org.repopt.train.WarmupCosineSchedule;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Advanced 3: watching RepOpt-VGG train in DL4J's training UI, the way DL4J users do: a {@code UIServer}, a
 * {@code StatsListener} recording into a {@code FileStatsStorage} (viewable again later with
 * {@code ./repopt ui FILE}), and next to it the one thing the UI cannot show: per re-parameterized kernel, how the
 * Grad Mult changes the gradient ({@code GradMultEffectListener}, one JSON line per kernel every 10 iterations).
 *
 * <p>Run: {@code ./repopt example training-ui [OUT_DIR]} (default {@code runs/examples}); it needs the build's
 * optional UI part ({@code deeplearning4j-ui}), which {@code ./repopt} adds by itself. Open http://localhost:9000/train/overview while it trains; it keeps serving after
 * training until Enter is pressed.
 */
public final class TrainingUiExample {

    public static void main(String[] args) throws Exception {
        boolean tiny = Boolean.getBoolean("repopt.example.tiny");   // the test suite's seconds-long setting
        Path out = Path.of(args.length > 0 ? args[0] : "runs/examples");
        int epochs = tiny ? 1 : 2;
        int batchSize = 64;
        if (tiny) {
            System.setProperty(DL4JSystemProperties.UI_SERVER_PORT_PROPERTY, "0");   // any free port
        }

        ImageDataset data = Datasets.fashionMnist(null);
        if (tiny) {
            data = data.withOptions(data.options().withSubset(Subset.first(256)));
        }
        EpochBatches train = data.train(batchSize, 0);
        VggSpec spec = VggSpec.small();
        ComputationGraph net = RepOptVgg.builder(spec).build().init(RepOptimizer.sgd(CslaVgg.initialScales(spec))
                .learningRate(new WarmupCosineSchedule(0.05, 0.0, 0, epochs * train.batchesPerEpoch()))
                .momentum(0.9).weightDecay(5e-4));

        // 1. The UI: DL4J's server (port 9000), statistics in a file; a file that exists gets one more session.
        Files.createDirectories(out);
        UIServer uiServer = UIServer.getInstance();
        StatsStorage stats = new FileStatsStorage(out.resolve("training-ui-stats.dl4j").toFile());
        uiServer.attach(stats);
        System.out.println("training UI: " + uiServer.getAddress() + "/train/overview");

        // 2. The listeners: the UI's statistics, the score, and the Grad Mult's effect per kernel.
        Path gradMult = out.resolve(GradMultEffectListener.FILE);
        Files.deleteIfExists(gradMult);
        net.setListeners(new StatsListener(stats, 10), new ScoreIterationListener(50),
                GradMultEffectListener.toJsonLines(gradMult, 10));

        for (int epoch = 0; epoch < epochs; epoch++) {
            net.fit(train.epoch(epoch));
            System.out.printf("epoch %d/%d done, loss %.4f%n", epoch + 1, epochs, net.score());
        }
        DataSetIterator test = data.test(256);
        if (tiny) {
            test = new ViewIterator(test.next(), 256);   // one test batch
        }
        Evaluation evaluation = net.evaluate(test);
        System.out.println(evaluation.stats());
        Path model = out.resolve("training-ui.zip");
        AtomicFiles.write(model, stream -> ModelSerializer.writeModel(net, stream, true));
        System.out.println("saved " + model + "; the Grad Mult's effect per kernel is in " + gradMult);

        // 3. Keep the UI up to look at the finished run, then stop it.
        if (!tiny) {
            System.out.println("the UI keeps serving at " + uiServer.getAddress() + "/train/overview: press Enter to "
                    + "stop (view the run again later with ./repopt ui " + out.resolve("training-ui-stats.dl4j")
                    + ")");
            System.in.read();
        }
        uiServer.stop();
        stats.close();
    }
}
