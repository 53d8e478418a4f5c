package org.repopt.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.node.ObjectNode;
import org.repopt.backend.OneDnnHelpers;
import org.repopt.io.AtomicFiles;
import org.repopt.io.JsonFormatException;
import org.repopt.io.StrictJson;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.zip.ZipFile;

/**
 * The checkpoints of one run folder. A checkpoint is a {@code ModelSerializer} zip with updater state,
 * {@code checkpoint-epoch-NNNN.zip}, plus {@code checkpoint.json} ({@link CheckpointState}) naming it with its SHA-256
 * and size, and naming the previous checkpoint the same way.
 *
 * <p>Saving never loses a good checkpoint: the new zip is written atomically under its own name, then
 * {@code checkpoint.json} is atomically replaced to name it (the single commit point) and the one before it, and only
 * then are older zips deleted. So a crash or error at any step leaves {@code checkpoint.json} naming complete zips,
 * and the last two checkpoints are always on disk.
 *
 * <p>Restoring ({@link #restore}) verifies before it trusts: the zip must have the recorded size and SHA-256 (a zip
 * changed after it was written, e.g. overwritten by an export, is refused), must read as a DL4J model, must hold
 * updater state where the network has some, and must be at the iteration and epoch that {@code checkpoint.json}
 * records. A checkpoint failing any of these falls back to the previous one, with a warning; when both fail, the
 * error says what is wrong with each.
 */
final class CheckpointStore {

    /** The file naming the current checkpoint. */
    static final String STATE_FILE = "checkpoint.json";
    private static final String MODEL_GLOB = "checkpoint-epoch-*.zip";
    private static final Set<String> FILE_KEYS = Set.of("model_sha256", "model_bytes", "previous");
    private static final Set<String> PREVIOUS_KEYS = Set.of("model_file", "epochs_completed", "model_sha256",
            "model_bytes");
    private static final String STATE_DESCRIPTION = "the checkpoint state a training run writes";
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointStore.class);

    /** Writes a network to a stream; the seam through which tests inject failures. */
    @FunctionalInterface
    interface ModelWriter {
        /**
         * @param net the network
         * @param out the stream; do not close it
         * @throws IOException when writing fails
         */
        void write(ComputationGraph net, OutputStream out) throws IOException;
    }

    /**
     * One checkpoint zip as {@code checkpoint.json} records it.
     *
     * @param name   the file name in the run folder
     * @param epochs epochs the checkpoint holds
     * @param sha256 its SHA-256, lower-case hex
     * @param bytes  its size
     */
    record ModelFile(String name, int epochs, String sha256, long bytes) {
    }

    /**
     * What {@code checkpoint.json} holds.
     *
     * @param state    the current checkpoint's state
     * @param current  its zip
     * @param previous the previous checkpoint's zip, if one is kept
     */
    record Document(CheckpointState state, ModelFile current, Optional<ModelFile> previous) {
    }

    /**
     * A checkpoint read back and verified.
     *
     * @param state    its state (the previous checkpoint's, after a fallback)
     * @param network  the network with updater state, iteration and epoch counts
     * @param file     the zip it came from
     * @param fallback why the current checkpoint was passed over, when the previous one was restored
     */
    record Restored(CheckpointState state, ComputationGraph network, Path file, Optional<String> fallback) {
    }

    private final Path dir;
    private final ModelWriter writer;
    private final ObjectMapper mapper = new ObjectMapper();
    /** The newest checkpoint this store wrote or verified: the previous one of the next save. */
    private ModelFile lastGood;

    /** @param dir the run folder */
    CheckpointStore(Path dir) {
        this(dir, (net, out) -> ModelSerializer.writeModel(net, out, true));
    }

    /**
     * @param dir    the run folder
     * @param writer how the model zip is written
     */
    CheckpointStore(Path dir, ModelWriter writer) {
        this.dir = Objects.requireNonNull(dir, "dir");
        this.writer = Objects.requireNonNull(writer, "writer");
    }

    /** @return {@code checkpoint.json} of this folder */
    Path stateFile() {
        return dir.resolve(STATE_FILE);
    }

    /** @return whether this folder holds a checkpoint */
    boolean exists() {
        return Files.exists(stateFile());
    }

    /**
     * @param epochsCompleted epochs the checkpoint holds
     * @return the model zip's file name
     */
    static String modelFileName(int epochsCompleted) {
        return String.format(Locale.ROOT, "checkpoint-epoch-%04d.zip", epochsCompleted);
    }

    /**
     * Saves {@code net} (parameters, configuration with iteration and epoch counts, updater state) as the new
     * checkpoint; the one this store wrote or restored last stays as the previous one.
     *
     * @param net   the network
     * @param state what the checkpoint holds; its {@code modelFile} must be {@link #modelFileName} of its epochs
     * @return the model zip
     * @throws IOException when writing fails; the previous checkpoint is then still the current one
     */
    Path save(ComputationGraph net, CheckpointState state) throws IOException {
        String name = modelFileName(state.epochsCompleted());
        if (!name.equals(state.modelFile())) {
            throw new IllegalArgumentException("checkpoint state names model file " + state.modelFile()
                    + ", expected " + name);
        }
        Path model = dir.resolve(name);
        Digesting digest = new Digesting();
        AtomicFiles.write(model, out -> {
            digest.out = out;
            writer.write(net, digest);
            digest.flush();
        });
        ModelFile current = new ModelFile(name, state.epochsCompleted(), digest.hex(), digest.bytes);
        Optional<ModelFile> previous = Optional.ofNullable(lastGood).filter(p -> !p.name().equals(name));
        ObjectNode json = state.toJsonNode(mapper);
        json.put("model_sha256", current.sha256());
        json.put("model_bytes", current.bytes());
        previous.ifPresent(p -> {
            ObjectNode prev = json.putObject("previous");
            prev.put("model_file", p.name());
            prev.put("epochs_completed", p.epochs());
            prev.put("model_sha256", p.sha256());
            prev.put("model_bytes", p.bytes());
        });
        byte[] bytes = mapper.writerWithDefaultPrettyPrinter().writeValueAsBytes(json);
        AtomicFiles.write(stateFile(), out -> out.write(bytes));
        lastGood = current;
        deleteModelsOtherThan(name, previous.map(ModelFile::name).orElse(name));
        return model;
    }

    /** Counts and hashes what passes to the stream {@link AtomicFiles} gives; does not close it. */
    private static final class Digesting extends FilterOutputStream {
        private final MessageDigest sha = sha256();
        private OutputStream out;
        private long bytes;

        Digesting() {
            super(OutputStream.nullOutputStream());
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            sha.update((byte) b);
            bytes++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            sha.update(b, off, len);
            bytes += len;
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }

        @Override
        public void close() throws IOException {
            flush();    // the stream belongs to AtomicFiles
        }

        String hex() {
            return HexFormat.of().formatHex(sha.digest());
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM lacks SHA-256, which every Java platform must provide", e);
        }
    }

    /** Removes model zips that {@code checkpoint.json} no longer names (older ones, or orphans of a crash). */
    private void deleteModelsOtherThan(String current, String previous) throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, MODEL_GLOB)) {
            for (Path f : files) {
                String n = f.getFileName().toString();
                if (!n.equals(current) && !n.equals(previous)) {
                    try {
                        Files.deleteIfExists(f);
                    } catch (IOException e) {
                        // the new checkpoint is committed; an undeletable old zip only costs disk space
                        LOG.warn("could not delete the superseded checkpoint {}", f, e);
                    }
                }
            }
        }
    }

    /**
     * @return the state in {@code checkpoint.json}, unverified
     * @throws IOException              when the file cannot be read
     * @throws IllegalArgumentException when its content is invalid, or the model zip it names is missing and no
     *                                  previous one is recorded
     */
    CheckpointState read() throws IOException {
        StrictJson.Node root = StrictJson.read(stateFile(), STATE_DESCRIPTION);
        CheckpointState state = CheckpointState.fromJson(root, FILE_KEYS);
        if (!Files.isRegularFile(modelFile(state)) && !root.has("previous")) {
            throw new JsonFormatException(stateFile().toString(), "", "model_file", "a file in " + dir,
                    "no such file", "names model file " + state.modelFile() + ", which does not exist in " + dir);
        }
        return state;
    }

    /**
     * @return what {@code checkpoint.json} holds
     * @throws IOException         when it cannot be read
     * @throws JsonFormatException when its content is invalid
     */
    Document readDocument() throws IOException {
        StrictJson.Node root = StrictJson.read(stateFile(), STATE_DESCRIPTION);
        CheckpointState state = CheckpointState.fromJson(root, FILE_KEYS);
        ModelFile current = new ModelFile(state.modelFile(), state.epochsCompleted(), sha(root),
                root.get("model_bytes").longInteger());
        Optional<ModelFile> previous = root.optional("previous").map(p -> {
            p.requireKeys(PREVIOUS_KEYS);
            StrictJson.Node epochs = p.get("epochs_completed");
            int e = epochs.integer();
            if (e < 1 || e >= state.epochsCompleted()) {
                throw epochs.fail("an epoch in [1, " + state.epochsCompleted() + ")");
            }
            StrictJson.Node name = p.get("model_file");
            if (!modelFileName(e).equals(name.text())) {
                throw name.fail("'" + modelFileName(e) + "'");
            }
            return new ModelFile(name.text(), e, sha(p), p.get("model_bytes").longInteger());
        });
        return new Document(state, current, previous);
    }

    private static String sha(StrictJson.Node object) {
        StrictJson.Node n = object.get("model_sha256");
        String hex = n.text();
        if (!hex.matches("[0-9a-f]{64}")) {
            throw n.fail("64 lower-case hex digits");
        }
        return hex;
    }

    /**
     * @param state a checkpoint state
     * @return its model zip
     */
    Path modelFile(CheckpointState state) {
        return dir.resolve(state.modelFile());
    }

    /**
     * @param state a checkpoint state
     * @return the network with its updater state, iteration and epoch counts, unverified
     * @throws IOException when the zip cannot be read
     */
    ComputationGraph loadModel(CheckpointState state) throws IOException {
        OneDnnHelpers.enable();
        return ModelSerializer.restoreComputationGraph(modelFile(state).toFile(), true);
    }

    /**
     * Restores the current checkpoint, verified; falls back to the previous one when the current one fails a check.
     *
     * @param doc what {@code checkpoint.json} holds ({@link #readDocument})
     * @return the restored checkpoint
     * @throws CheckpointUnusableException when no kept checkpoint passes the checks
     */
    Restored restore(Document doc) {
        String currentProblem;
        try {
            return load(doc.state(), doc.current(), Optional.empty());
        } catch (Unusable e) {
            currentProblem = e.getMessage();
        }
        if (doc.previous().isEmpty()) {
            throw new CheckpointUnusableException(dir, "the run in " + dir + " cannot be resumed: its checkpoint "
                    + currentProblem + ", and no earlier checkpoint is kept; start the run again in an empty folder");
        }
        ModelFile previous = doc.previous().get();
        CheckpointState earlier = doc.state().truncated(previous.name(), previous.epochs());
        String note = "checkpoint " + currentProblem + "; resuming from the previous checkpoint "
                + dir.resolve(previous.name()) + " (after epoch " + previous.epochs() + ")";
        try {
            Restored r = load(earlier, previous, Optional.of(note));
            LOG.warn(note);
            return r;
        } catch (Unusable e) {
            throw new CheckpointUnusableException(dir, "the run in " + dir + " cannot be resumed: its checkpoint "
                    + currentProblem + ", and the previous checkpoint " + e.getMessage() + "; start the run again in "
                    + "an empty folder");
        }
    }

    /**
     * The newest checkpoint zip that matches its recorded size and SHA-256 (the current one, else the previous).
     *
     * @return the zip, if the folder holds a checkpoint
     * @throws IOException                 when {@code checkpoint.json} cannot be read
     * @throws CheckpointUnusableException when neither kept zip is intact
     */
    Optional<Path> latestIntact() throws IOException {
        if (!exists()) {
            return Optional.empty();
        }
        Document doc = readDocument();
        String currentProblem;
        try {
            return Optional.of(verified(doc.current()));
        } catch (Unusable e) {
            currentProblem = e.getMessage();
        }
        if (doc.previous().isPresent()) {
            try {
                Path p = verified(doc.previous().get());
                LOG.warn("checkpoint {}; using the previous checkpoint {}", currentProblem, p);
                return Optional.of(p);
            } catch (Unusable e) {
                currentProblem += ", and the previous checkpoint " + e.getMessage();
            }
        }
        throw new CheckpointUnusableException(dir, "the run in " + dir + " has no intact checkpoint: "
                + currentProblem);
    }

    /** A kept checkpoint failed a check; the message names the zip and what is wrong. */
    private static final class Unusable extends Exception {
        private static final long serialVersionUID = 1L;

        Unusable(Path file, String problem) {
            super(file + " " + problem);
        }
    }

    /** @return the zip, after checking its size and SHA-256 against {@code checkpoint.json} */
    private Path verified(ModelFile m) throws Unusable {
        Path f = dir.resolve(m.name());
        if (!Files.isRegularFile(f)) {
            throw new Unusable(f, "is missing");
        }
        try {
            long size = Files.size(f);
            if (size != m.bytes()) {
                throw new Unusable(f, "has " + size + " bytes, but " + STATE_FILE + " recorded " + m.bytes()
                        + ": it was changed or damaged after it was written");
            }
            MessageDigest sha = sha256();
            try (InputStream in = Files.newInputStream(f)) {
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0; ) {
                    sha.update(buf, 0, n);
                }
            }
            String hex = HexFormat.of().formatHex(sha.digest());
            if (!hex.equals(m.sha256())) {
                throw new Unusable(f, "has SHA-256 " + hex + ", but " + STATE_FILE + " recorded " + m.sha256()
                        + ": it was changed or damaged after it was written");
            }
        } catch (IOException e) {
            throw new Unusable(f, "cannot be read (" + e + ")");
        }
        return f;
    }

    private Restored load(CheckpointState state, ModelFile m, Optional<String> fallback) throws Unusable {
        Path f = verified(m);
        ComputationGraph net;
        boolean hasUpdaterState;
        try {
            OneDnnHelpers.enable();
            net = ModelSerializer.restoreComputationGraph(f.toFile(), true);
            try (ZipFile zip = new ZipFile(f.toFile())) {
                hasUpdaterState = zip.getEntry(ModelSerializer.UPDATER_BIN) != null;
            }
        } catch (IOException | RuntimeException e) {
            throw new Unusable(f, "cannot be read as a DL4J model zip (" + e + ")");
        }
        INDArray updaterState = net.getUpdater() == null ? null : net.getUpdater().getStateViewArray();
        if (updaterState != null && updaterState.length() > 0 && !hasUpdaterState) {
            throw new Unusable(f, "holds no updater state (" + ModelSerializer.UPDATER_BIN + "): resuming from it "
                    + "would restart momentum from zero; a training checkpoint always has it");
        }
        if (net.getIterationCount() != state.iterations() || net.getEpochCount() != state.epochsCompleted()) {
            throw new Unusable(f, "is inconsistent: the network is at iteration " + net.getIterationCount()
                    + ", epoch " + net.getEpochCount() + ", " + STATE_FILE + " says iteration " + state.iterations()
                    + ", epoch " + state.epochsCompleted());
        }
        lastGood = m;
        return new Restored(state, net, f, fallback);
    }
}
