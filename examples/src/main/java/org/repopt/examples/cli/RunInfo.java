package org.repopt.examples.cli;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.SerializationFeature;
import org.repopt.io.AtomicFiles;
import org.repopt.model.RepVgg;
import org.repopt.model.VggSpec;
import org.repopt.nn.ConvBnReluFusion;
import org.repopt.train.ModelFamily;
import org.repopt.train.Trainer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What {@code ./repopt train} trained, kept as {@value #FILE} in the run's folder so that {@code export} and
 * {@code quantize} can rebuild the architecture without asking again.
 *
 * @param model    the family's command-line name
 * @param variant  the variant's name (small, B1, ...)
 * @param dataset  the data set's name
 * @param channels input channels
 * @param height   input height
 * @param width    input width
 * @param classes  class count
 * @param scales   where the scales came from, or {@code null}
 */
record RunInfo(@JsonProperty("model") String model, @JsonProperty("variant") String variant,
               @JsonProperty("dataset") String dataset, @JsonProperty("channels") int channels,
               @JsonProperty("height") int height, @JsonProperty("width") int width,
               @JsonProperty("classes") int classes, @JsonProperty("scales") String scales) {

    /** The file name inside a run folder. */
    static final String FILE = "run.json";

    @JsonCreator
    RunInfo {
    }

    /**
     * @param family  the trained family
     * @param variant the variant's name, as {@code --variant} takes it
     * @param dataset the data set's name
     * @param spec    the trained architecture (input shape and classes adapted to the data)
     * @param scales  where the scales came from, or {@code null}
     * @return the run description
     */
    static RunInfo of(ModelFamily family, String variant, String dataset, VggSpec spec, String scales) {
        return new RunInfo(family.cliName(), variant, dataset, spec.inputChannels(), spec.inputHeight(),
                spec.inputWidth(), spec.numClasses(), scales);
    }

    /** @return the family */
    ModelFamily family() {
        return ModelFamily.parse(model);
    }

    /** @return the trained architecture */
    VggSpec spec() {
        return ModelArgs.spec(variant).withInput(channels, height, width).withClasses(classes);
    }

    /**
     * The run's deployable plain model: its last checkpoint, fused for RepVGG, as trained for RepOpt-VGG and VGG
     * (in DL4J's conv, batch-norm and ReLU layers whichever engine trained it).
     *
     * @param run the run folder
     * @return the deploy network
     * @throws IllegalArgumentException for a Hyper-Search run, or a run without checkpoint
     * @throws IOException              when the checkpoint cannot be read
     */
    ComputationGraph deployModel(Path run) throws IOException {
        if (family() == ModelFamily.HS) {
            throw new IllegalArgumentException("the Hyper-Search model is not a plain deploy model: run ./repopt "
                    + "search to export its scales, then train RepOpt-VGG with them");
        }
        Path checkpoint = Trainer.latestCheckpoint(run).orElseThrow(
                () -> new IllegalArgumentException(run + " holds no checkpoint yet"));
        ComputationGraph trained = ModelSerializer.restoreComputationGraph(checkpoint.toFile(), false);
        // Fused conv-BN-ReLU layers (the oneDNN engine) are written as DL4J's three layers: a plain DL4J graph.
        return family() == ModelFamily.REPVGG ? RepVgg.builder(spec()).build().deploy(trained)
                : ConvBnReluFusion.unfuse(trained);
    }

    /** Writes the file atomically into {@code dir}. */
    void write(Path dir) throws IOException {
        byte[] json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(this);
        AtomicFiles.write(dir.resolve(FILE), out -> out.write(json));
    }

    /**
     * @param dir a run folder
     * @return its run description
     * @throws IllegalArgumentException where the folder holds no {@value #FILE}
     */
    static RunInfo read(Path dir) throws IOException {
        Path f = dir.resolve(FILE);
        if (!Files.exists(f)) {
            throw new IllegalArgumentException(dir + " is not a run folder of ./repopt train: " + FILE + " is missing");
        }
        return new ObjectMapper().readValue(f.toFile(), RunInfo.class);
    }
}
