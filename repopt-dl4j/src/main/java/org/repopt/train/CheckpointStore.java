package org.repopt.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.repopt.backend.OneDnnHelpers;
import org.repopt.io.AtomicFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * The checkpoints of one run folder. A checkpoint is a {@code ModelSerializer} zip with updater state,
 * {@code checkpoint-epoch-NNNN.zip}, plus {@code checkpoint.json} ({@link CheckpointState}) naming it.
 *
 * <p>Saving never loses the previous checkpoint: the new zip is written atomically under its own name, then
 * {@code checkpoint.json} is atomically replaced to name it (the single commit point), and only then is the older
 * zip deleted. A crash or error at any step leaves {@code checkpoint.json} naming a complete zip.
 */
final class CheckpointStore {

    /** The file naming the current checkpoint. */
    static final String STATE_FILE = "checkpoint.json";
    private static final String MODEL_GLOB = "checkpoint-epoch-*.zip";
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

    private final Path dir;
    private final ModelWriter writer;
    private final ObjectMapper mapper = new ObjectMapper();

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
     * checkpoint.
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
        AtomicFiles.write(model, out -> writer.write(net, out));
        byte[] json = state.toJson(mapper).getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(stateFile(), out -> out.write(json));
        deleteOtherModels(name);
        return model;
    }

    /** Removes model zips that {@code checkpoint.json} no longer names (older ones, or orphans of a crash). */
    private void deleteOtherModels(String keep) throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, MODEL_GLOB)) {
            for (Path f : files) {
                if (!f.getFileName().toString().equals(keep)) {
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
     * @return the state in {@code checkpoint.json}
     * @throws IOException              when the file cannot be read or parsed
     * @throws IllegalArgumentException when its content is invalid, or the model zip it names is missing
     */
    CheckpointState read() throws IOException {
        Path file = stateFile();
        JsonNode root;
        try {
            root = mapper.readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new IOException("cannot read the checkpoint state " + file + ": " + e.getMessage(), e);
        }
        CheckpointState state = CheckpointState.fromJson(root, file.toString());
        if (!Files.isRegularFile(modelFile(state))) {
            throw new IllegalArgumentException(file + " names model file " + state.modelFile()
                    + ", which does not exist in " + dir);
        }
        return state;
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
     * @return the network with its updater state, iteration and epoch counts
     * @throws IOException when the zip cannot be read
     */
    ComputationGraph loadModel(CheckpointState state) throws IOException {
        OneDnnHelpers.enable();
        return ModelSerializer.restoreComputationGraph(modelFile(state).toFile(), true);
    }
}
