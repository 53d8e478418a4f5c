package org.repopt.examples.cli;

import org.junit.jupiter.api.Test;
import org.repopt.train.EpochFitter;
import org.repopt.train.EpochFitterProvider;

import java.nio.file.Path;
import java.util.Map;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** train's data-parallel options: local without them, clear errors when they do not fit or the module is absent. */
class DataParallelArgsTest {

    @Test
    void withoutOptionsTrainingIsLocal() {
        assertSame(EpochFitter.LOCAL, new DataParallelArgs().open());
    }

    @Test
    void anAveragingFrequencyAloneIsRefused() {
        DataParallelArgs args = new DataParallelArgs();
        args.averagingFrequency = 4;
        String m = assertThrows(IllegalArgumentException.class, args::open).getMessage();
        assertTrue(m.contains("--averaging-frequency needs --spark MASTER or --workers N"), m);
    }

    @Test
    void aRunTrainedInOneProcessResumesInOne() {
        assertSame(EpochFitter.LOCAL, new DataParallelArgs().openToResume(Path.of("runs/x"), Map.of()));
    }

    @Test
    void aDataParallelRunNeedsItsEngineNamedAgain() {
        String m = assertThrows(IllegalArgumentException.class, () -> new DataParallelArgs().openToResume(
                Path.of("runs/x"), Map.of("workers", "2", "averagingFrequency", "1"))).getMessage();
        assertTrue(m.contains("the run in runs/x trained data-parallel (2 workers, averaging every 1 step(s)): "
                + "resume it with --spark MASTER, or with --workers 2"), m);
    }

    @Test
    void withoutTheSparkModuleTheErrorSaysHowToGetIt() {
        assumeFalse(ServiceLoader.load(EpochFitterProvider.class).iterator().hasNext(),
                "repopt-spark is on the class path (a -Pspark build)");
        DataParallelArgs spark = new DataParallelArgs();
        spark.spark = "local[2]";
        String m = assertThrows(IllegalArgumentException.class, spark::open).getMessage();
        assertTrue(m.contains("--spark needs the optional module repopt-spark") && m.contains("-Pcpu,spark"), m);
        DataParallelArgs workers = new DataParallelArgs();
        workers.workers = 2;
        m = assertThrows(IllegalArgumentException.class, workers::open).getMessage();
        assertTrue(m.contains("--workers needs the optional module repopt-spark"), m);
    }
}
