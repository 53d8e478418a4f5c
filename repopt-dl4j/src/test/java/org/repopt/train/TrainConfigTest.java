package org.repopt.train;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainConfigTest {

    private static final Path DIR = Path.of("runs", "x");

    @Test
    void defaultsAreThePapersImageNetRecipe() {
        TrainConfig c = TrainConfig.builder(DIR).build();
        assertEquals(120, c.epochs());
        assertEquals(256, c.batchSize());
        assertEquals(0.1, c.learningRate());
        assertEquals(5, c.warmupEpochs());
        assertEquals(0.0, c.minLearningRate());
        assertEquals(0.1, c.labelSmoothing());
        assertEquals(0L, c.seed());
        assertEquals(DIR, c.outputDir());
        assertTrue(c.evaluateEveryEpoch() && c.top5() && c.progress());
        assertEquals(c, c.toBuilder().build());
        assertEquals(c.hashCode(), c.toBuilder().build().hashCode());
    }

    @Test
    void trajectoryFieldsAreWhatAResumeMustMatch() {
        TrainConfig c = TrainConfig.builder(DIR).epochs(3).warmupEpochs(1).build();
        assertEquals("{epochs=3, batchSize=256, learningRate=0.1, warmupEpochs=1, minLearningRate=0.0, "
                + "labelSmoothing=0.1, seed=0}", c.trajectoryFields().toString());
        assertEquals(c.trajectoryFields(), c.toBuilder().progress(false).evaluateEveryEpoch(false).top5(false)
                .build().trajectoryFields());
    }

    @Test
    void badValuesAreNamed() {
        assertMessage("epochs must be >= 1, got 0", TrainConfig.builder(DIR).epochs(0));
        assertMessage("batchSize must be >= 1, got -2", TrainConfig.builder(DIR).batchSize(-2));
        assertMessage("learningRate must be finite and > 0, got NaN", TrainConfig.builder(DIR).learningRate(Double.NaN));
        assertMessage("learningRate must be finite and > 0, got 0.0", TrainConfig.builder(DIR).learningRate(0));
        assertMessage("warmupEpochs must be in [0, epochs=3), got 5", TrainConfig.builder(DIR).epochs(3));
        assertMessage("warmupEpochs must be in [0, epochs=120), got -1", TrainConfig.builder(DIR).warmupEpochs(-1));
        assertMessage("minLearningRate must be in [0, learningRate=0.1], got 0.2",
                TrainConfig.builder(DIR).minLearningRate(0.2));
        assertMessage("labelSmoothing must be in [0, 1), got 1.0", TrainConfig.builder(DIR).labelSmoothing(1));
        assertThrows(NullPointerException.class, () -> TrainConfig.builder(null));
    }

    private static void assertMessage(String expected, TrainConfig.Builder b) {
        String m = assertThrows(IllegalArgumentException.class, b::build).getMessage();
        assertTrue(m.contains(expected), m);
    }
}
