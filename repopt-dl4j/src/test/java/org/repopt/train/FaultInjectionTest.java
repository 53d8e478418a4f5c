package org.repopt.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11's fault injection: training processes ({@link FaultInjectionChild}) are killed with SIGKILL at random
 * points across their checkpoints (after a random update, plus a random delay that lands in training, evaluation or
 * the checkpoint's writing), then resumed; each ends with the parameters and updater state of an uninterrupted run at
 * the default seed, bit for bit.
 *
 * <p>{@code -Drepopt.faults=N} kills N runs (default 5); {@code -Drepopt.faultSeed=S} replays a schedule of kill
 * points (the seed is in every failure message).
 */
class FaultInjectionTest {

    private static final long TIMEOUT_SECONDS = 600;

    @Test
    void runsKilledAtRandomPointsResumeToTheParametersOfAnUninterruptedRun(@TempDir Path tmp) throws Exception {
        int faults = Integer.getInteger("repopt.faults", 5);
        long seed = Long.getLong("repopt.faultSeed", System.nanoTime());
        Random random = new Random(seed);
        int total = FaultInjectionChild.EPOCHS * FaultInjectionChild.ITERATIONS_PER_EPOCH;
        List<Killed> killed = new ArrayList<>();
        for (int i = 0; i < faults; i++) {
            // after the first checkpoint (which iteration 3, the first of epoch 2, follows), up to the last update
            int afterIteration = FaultInjectionChild.ITERATIONS_PER_EPOCH + random.nextInt(
                    total - FaultInjectionChild.ITERATIONS_PER_EPOCH);
            killed.add(new Killed(tmp.resolve("killed-" + i), afterIteration, random.nextInt(400), seed));
        }
        for (Killed k : killed) {
            k.start();
        }
        for (Killed k : killed) {
            k.awaitKill();
        }

        Path reference = tmp.resolve("uninterrupted");
        List<String> finish = new ArrayList<>(List.of("finish", reference.toString()));
        killed.forEach(k -> finish.add(k.dir.toString()));
        Process resume = child(finish.toArray(new String[0]));
        String out = drain(resume);
        assertEquals(0, resume.waitFor(), "the uninterrupted run, then resuming the killed runs (kill schedule seed "
                + seed + "):\n" + out);

        ComputationGraph expected = finalNetwork(reference);
        for (Killed k : killed) {
            ComputationGraph got = finalNetwork(k.dir);
            String what = "run killed after iteration " + k.afterIteration + " + " + k.delayMillis + " ms (seed "
                    + seed + ")";
            assertEquals(total, got.getIterationCount(), what);
            assertArrayEquals(expected.params().dup().data().asDouble(), got.params().dup().data().asDouble(),
                    what + ": parameters");
            assertArrayEquals(expected.getUpdater().getStateViewArray().dup().data().asDouble(),
                    got.getUpdater().getStateViewArray().dup().data().asDouble(), what + ": updater state");
        }
    }

    /** One run to kill: started, watched for its update, killed. */
    private static final class Killed {
        final Path dir;
        final int afterIteration;
        final int delayMillis;
        final long seed;
        Process process;
        Thread watcher;
        volatile String problem;

        Killed(Path dir, int afterIteration, int delayMillis, long seed) {
            this.dir = dir;
            this.afterIteration = afterIteration;
            this.delayMillis = delayMillis;
            this.seed = seed;
        }

        void start() throws IOException {
            process = child("train", dir.toString());
            watcher = new Thread(this::watch, "kill " + dir.getFileName());
            watcher.start();
        }

        private void watch() {
            StringBuilder seen = new StringBuilder();
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    seen.append(line).append('\n');
                    if (line.startsWith(FaultInjectionChild.ITERATION) && Integer.parseInt(
                            line.substring(FaultInjectionChild.ITERATION.length())) >= afterIteration) {
                        requireHeldByChild();
                        Thread.sleep(delayMillis);
                        process.destroyForcibly();      // SIGKILL
                        return;
                    }
                }
                problem = "the run ended before iteration " + afterIteration + ":\n" + seen;
            } catch (IOException | InterruptedException | RuntimeException | AssertionError e) {
                problem = e + "\n" + seen;
            }
        }

        /** While it lives, the run holds its folder against every other process. */
        private void requireHeldByChild() {
            RunFolderException e = assertThrows(RunFolderException.class, () -> RunFolder.startNew(dir).close());
            assertEquals(RunFolderException.Problem.IN_USE, e.problem());
            assertTrue(e.getMessage().contains("pid " + process.pid()), e.getMessage());
        }

        void awaitKill() throws InterruptedException {
            watcher.join(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
            process.destroyForcibly();
            process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            if (problem != null) {
                throw new AssertionError("kill after iteration " + afterIteration + " (seed " + seed + "): "
                        + problem);
            }
            assertTrue(Files.exists(dir.resolve("checkpoint.json")), "a checkpoint was committed before the kill");
        }
    }

    private static Process child(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-cp", System.getProperty("java.class.path"), FaultInjectionChild.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    private static String drain(Process p) throws IOException {
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    private static ComputationGraph finalNetwork(Path dir) throws IOException {
        return ModelSerializer.restoreComputationGraph(Trainer.latestCheckpoint(dir).orElseThrow().toFile(), true);
    }
}
