package org.repopt.train;

import org.repopt.io.AtomicFiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A training run's folder, held exclusively while a run uses it: {@link #startNew} and {@link #resume} take an
 * operating-system lock on {@value #LOCK_FILE} (released by {@link #close}, and by the system when the process dies,
 * even by SIGKILL), then check the folder, and only then may anything be written. So a refused run changes nothing,
 * and two runs started at once into one folder cannot both write: the second is told the first is using it.
 *
 * <pre>{@code
 * try (RunFolder run = RunFolder.startNew(dir)) {
 *     run.write("run.json", out -> out.write(description));   // after the checks, under the lock
 *     trainer.train(net, data, run);
 * }
 * }</pre>
 *
 * What a run folder holds: {@code checkpoint.json} and the last two {@code checkpoint-epoch-NNNN.zip} (the
 * {@link Trainer}'s checkpoints), {@value Trainer#METRICS_FILE}, the lock, and whatever the caller adds.
 * {@link #requireNotRunFile} keeps other outputs (an exported model, say) off the run's own files.
 */
public final class RunFolder implements AutoCloseable {

    /** The lock file; it holds the process id and start time of the run that holds the lock. */
    public static final String LOCK_FILE = "run.lock";
    private static final Pattern RUN_FILES = Pattern.compile("checkpoint\\.json|checkpoint-epoch-\\d+\\.zip|"
            + Pattern.quote(Trainer.METRICS_FILE) + "|" + Pattern.quote(LOCK_FILE));

    private final Path dir;
    private final FileChannel channel;
    private final FileLock lock;

    private RunFolder(Path dir, FileChannel channel, FileLock lock) {
        this.dir = dir;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Claims a folder for a new run: creates it when missing, locks it, and checks that it holds no run.
     *
     * @param dir the run folder
     * @return the claimed folder; close it when the run ends
     * @throws RunFolderException when {@code dir} is a file, another run is using it, or it holds a run
     * @throws IOException        when the folder or its lock cannot be created
     */
    public static RunFolder startNew(Path dir) throws IOException {
        RunFolder run = lock(dir);
        try {
            CheckpointStore store = new CheckpointStore(dir);
            if (store.exists()) {
                throw new RunFolderException(RunFolderException.Problem.HOLDS_RUN, dir, "output directory " + dir
                        + " already holds a run (" + store.stateFile() + "); continue it with Trainer.resume, or train "
                        + "into an empty directory");
            }
            Path metrics = dir.resolve(Trainer.METRICS_FILE);
            if (Files.exists(metrics)) {
                throw new RunFolderException(RunFolderException.Problem.HOLDS_UNFINISHED_RUN, dir, "output directory "
                        + dir + " holds " + metrics + " of a run without checkpoint; remove it, or train into an empty "
                        + "directory (no training run is using the folder)");
            }
            return run;
        } catch (RuntimeException e) {
            run.close();
            throw e;
        }
    }

    /**
     * Claims the folder of an existing run to continue it: locks it and checks that it holds a checkpoint.
     *
     * @param dir the run folder
     * @return the claimed folder; close it when the run ends
     * @throws RunFolderException when {@code dir} is a file, another run is using it, or it holds no checkpoint
     * @throws IOException        when the lock cannot be created
     */
    public static RunFolder resume(Path dir) throws IOException {
        requireNotAFile(dir);
        if (!new CheckpointStore(dir).exists()) {
            throw nothingToResume(dir);     // before locking, so that a refusal creates no lock file
        }
        RunFolder run = lock(dir);
        if (!new CheckpointStore(dir).exists()) {
            run.close();
            throw nothingToResume(dir);
        }
        return run;
    }

    static RunFolderException nothingToResume(Path dir) {
        return new RunFolderException(RunFolderException.Problem.NOTHING_TO_RESUME, dir, "nothing to resume: "
                + dir.resolve(CheckpointStore.STATE_FILE) + " does not exist; start the run with Trainer.train");
    }

    private static void requireNotAFile(Path dir) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new RunFolderException(RunFolderException.Problem.NOT_A_FOLDER, dir, "run folder " + dir
                    + " is an existing file; expected a folder (created when missing)");
        }
    }

    private static RunFolder lock(Path dir) throws IOException {
        requireNotAFile(dir);
        Files.createDirectories(dir);
        Path lockFile = dir.resolve(LOCK_FILE);
        FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;    // this process holds it already
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            String holder = holder(channel);
            channel.close();
            throw new RunFolderException(RunFolderException.Problem.IN_USE, dir, "run folder " + dir + " is in use by "
                    + "a training run that is still going (" + holder + ", lock " + lockFile + "); wait for it to end "
                    + "or stop it, or use another folder");
        }
        try {
            byte[] me = ("pid " + ProcessHandle.current().pid() + ", started " + Instant.now() + "\n")
                    .getBytes(StandardCharsets.UTF_8);
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(me), 0);
        } catch (IOException | RuntimeException e) {
            lock.release();
            channel.close();
            throw e;
        }
        return new RunFolder(dir, channel, lock);
    }

    private static String holder(FileChannel channel) {
        try {
            ByteBuffer b = ByteBuffer.allocate(256);
            channel.read(b, 0);
            String s = new String(b.array(), 0, b.position(), StandardCharsets.UTF_8).strip();
            return s.isEmpty() ? "process unknown" : s;
        } catch (IOException e) {
            return "process unknown";
        }
    }

    /** @return the folder */
    public Path dir() {
        return dir;
    }

    /**
     * Writes a file of the caller's into the folder, atomically; only while the folder is held.
     *
     * @param name    a plain file name, not one of the run's own files
     * @param content what to write
     * @throws IOException when writing fails; an existing file is then unchanged
     */
    public void write(String name, AtomicFiles.Content content) throws IOException {
        requireHeld();
        if (name.contains("/") || name.contains("\\") || RUN_FILES.matcher(name).matches()) {
            throw new IllegalArgumentException("'" + name + "' is not a plain file name of the caller's own: "
                    + "checkpoint*, " + Trainer.METRICS_FILE + " and " + LOCK_FILE + " belong to the run");
        }
        AtomicFiles.write(dir.resolve(name), content);
    }

    private void requireHeld() {
        if (!lock.isValid()) {
            throw new IllegalStateException("run folder " + dir + " was released");
        }
    }

    /**
     * Refuses an output path that is one of a run's own files (a checkpoint, {@code checkpoint.json}, the metrics,
     * the lock) in a folder that holds a run: writing there would destroy the run's checkpoint.
     *
     * @param target an output file about to be written
     * @throws IllegalArgumentException naming the file and the run when it is one of a run's files
     */
    public static void requireNotRunFile(Path target) {
        Path file = target.toAbsolutePath().normalize();
        Path parent = file.getParent();
        if (parent == null || file.getFileName() == null) {
            return;
        }
        boolean runFolder = Files.exists(parent.resolve(CheckpointStore.STATE_FILE))
                || Files.exists(parent.resolve(Trainer.METRICS_FILE)) || Files.exists(parent.resolve(LOCK_FILE));
        if (runFolder && RUN_FILES.matcher(file.getFileName().toString()).matches()) {
            throw new IllegalArgumentException("output " + target + " is a file of the training run in " + parent
                    + " (its checkpoints, checkpoint.json, " + Trainer.METRICS_FILE + " and " + LOCK_FILE
                    + " belong to the run); write the output elsewhere");
        }
    }

    /** Releases the lock; the folder's files stay. */
    @Override
    public void close() throws IOException {
        Objects.requireNonNull(channel, "channel");
        try {
            if (lock.isValid()) {
                lock.release();
            }
        } finally {
            channel.close();
        }
    }
}
