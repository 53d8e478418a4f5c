package org.repopt.examples.advanced;

import org.deeplearning4j.config.DL4JSystemProperties;
import org.deeplearning4j.ui.VertxUIServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.repopt.data.Datasets;
import org.repopt.train.GradMultEffectListener;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The training-UI example in its tiny setting (the other examples run in the examples module's tests). */
class TrainingUiExampleTest {

    @Test
    void runsInItsTinySettingAndSavesItsModelStatisticsAndGradMultLog(@TempDir Path out) throws Exception {
        assumeTrue(Files.isDirectory(Datasets.FASHION_MNIST_DIR),
                "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)");
        System.setProperty("repopt.example.tiny", "true");
        try {
            TrainingUiExample.main(new String[]{out.toString()});
        } finally {
            System.clearProperty("repopt.example.tiny");
            System.clearProperty(DL4JSystemProperties.UI_SERVER_PORT_PROPERTY);
            VertxUIServer.stopInstance();
        }
        for (String file : List.of("training-ui.zip", "training-ui-stats.dl4j", GradMultEffectListener.FILE)) {
            assertTrue(Files.size(out.resolve(file)) > 0, file);
        }
    }
}
