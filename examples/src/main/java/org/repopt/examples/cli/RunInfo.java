package org.repopt.examples.cli;

import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.SerializationFeature;
import org.nd4j.shade.jackson.databind.node.ObjectNode;
import org.repopt.data.ImageDataset;
import org.repopt.deploy.DeployModel;
import org.repopt.io.JsonFormatException;
import org.repopt.io.StrictJson;
import org.repopt.model.GhostNetSpec;
import org.repopt.model.RepVgg;
import org.repopt.model.VggSpec;
import org.repopt.train.ModelFamily;
import org.repopt.train.RunFolder;
import org.repopt.train.Trainer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * What {@code ./repopt train} (or {@code search}) trained, kept as {@value #FILE} in the run's folder: the model and
 * data options of the command line, so that {@code --resume} rebuilds the same run without asking again (and refuses
 * flags that contradict it), and {@code export} and {@code quantize} rebuild the architecture. The training schedule
 * is the checkpoint's ({@link Trainer#savedConfig}), not repeated here.
 *
 * @param model       the family's command-line name ({@link ModelArgs#name})
 * @param variant     the variant's name (small, B1, ...)
 * @param dataset     the {@code --dataset} name
 * @param dataDir     the {@code --data-dir} as an absolute path, or {@code null} for the data set's default
 * @param imageSize   the {@code --image-size} (used by image folders only)
 * @param subset      the {@code --subset}, or {@code null} for the whole training split
 * @param cropPadding the random crop's zero padding
 * @param channels    input channels
 * @param height      input height
 * @param width       input width
 * @param classes     class count
 * @param scales      where the scales came from ({@code released:B1} or an absolute path), or {@code null}
 * @param momentum    Nesterov momentum
 * @param weightDecay L2 weight decay
 */
record RunInfo(String model, String variant, String dataset, String dataDir, int imageSize, Integer subset,
               int cropPadding, int channels, int height, int width, int classes, String scales, double momentum,
               double weightDecay) {

    /** The file name inside a run folder. */
    static final String FILE = "run.json";
    private static final List<String> KEYS = List.of("model", "variant", "dataset", "data_dir", "image_size",
            "subset", "crop_padding", "channels", "height", "width", "classes", "scales", "momentum",
            "weight_decay");
    private static final String DESCRIPTION = "the run description ./repopt train writes (" + FILE + ")";

    /**
     * @param family      the trained family
     * @param variant     the variant's name, as {@code --variant} takes it
     * @param data        the data options
     * @param cropPadding the random crop's zero padding
     * @param spec        the trained architecture (input shape and classes adapted to the data)
     * @param scales      where the scales came from, or {@code null}
     * @param momentum    Nesterov momentum
     * @param weightDecay L2 weight decay
     * @return the run description
     */
    static RunInfo of(ModelFamily family, String variant, DataArgs data, int cropPadding, VggSpec spec,
                      String scales, double momentum, double weightDecay) {
        return of(family, variant, data, cropPadding, new int[]{spec.inputChannels(), spec.inputHeight(),
                spec.inputWidth(), spec.numClasses()}, scales, momentum, weightDecay);
    }

    /**
     * The same for a RepOpt-GhostNet family.
     *
     * @param spec the trained architecture (input shape and classes adapted to the data)
     * @return the run description
     */
    static RunInfo of(ModelFamily family, String variant, DataArgs data, int cropPadding, GhostNetSpec spec,
                      String scales, double momentum, double weightDecay) {
        return of(family, variant, data, cropPadding, new int[]{spec.inputChannels(), spec.inputHeight(),
                spec.inputWidth(), spec.numClasses()}, scales, momentum, weightDecay);
    }

    /** @param shape input channels, height, width and the class count of the trained architecture */
    private static RunInfo of(ModelFamily family, String variant, DataArgs data, int cropPadding, int[] shape,
                              String scales, double momentum, double weightDecay) {
        return new RunInfo(ModelArgs.name(family), variant, data.dataset,
                data.dataDir == null ? null : data.dataDir.toAbsolutePath().normalize().toString(), data.imageSize,
                data.subset, cropPadding, shape[0], shape[1], shape[2], shape[3], scales, momentum, weightDecay);
    }

    /** @return the family */
    ModelFamily family() {
        return ModelArgs.family(model);
    }

    /** @return the trained architecture of a VGG family */
    VggSpec spec() {
        return ModelArgs.spec(variant).withInput(channels, height, width).withClasses(classes);
    }

    /** @return the trained architecture of a RepOpt-GhostNet family */
    GhostNetSpec ghostSpec() {
        return GhostNetSpec.parse(variant).withInput(channels, height, width).withClasses(classes);
    }

    /** @return the trained architecture's name: {@code small}, {@code B1}, ..., or a GhostNet width, {@code 0.5x} */
    String specName() {
        return family().ghostNet() ? ghostSpec().name() : spec().name();
    }

    /**
     * @param dataDirOverride a {@code --data-dir} given now (the data may have moved), or {@code null}
     * @return the run's data set, with its options
     * @throws IOException when its files cannot be read
     */
    ImageDataset openData(Path dataDirOverride) throws IOException {
        DataArgs d = DataArgs.fashionMnist(dataDirOverride != null ? dataDirOverride
                : dataDir == null ? null : Path.of(dataDir));
        d.dataset = dataset;
        d.imageSize = imageSize;
        d.subset = subset;
        return d.open(cropPadding);
    }

    /**
     * The run's deployable plain model ({@link DeployModel}): its last intact checkpoint, fused for RepVGG, batch norm
     * folded into the convolutions, stock DL4J classes only, for every family (RepOpt-GhostNet included), whichever
     * engine trained it.
     *
     * @param run the run folder
     * @return the deploy network
     * @throws IllegalArgumentException for a Hyper-Search run, or a run without checkpoint
     * @throws IOException              when the checkpoint cannot be read
     */
    ComputationGraph deployModel(Path run) throws IOException {
        if (family() == ModelFamily.HS || family() == ModelFamily.GHOSTNET_HS) {
            throw new IllegalArgumentException("the Hyper-Search model is not a plain deploy model: run ./repopt "
                    + "search to export its scales, then train " + (family().ghostNet() ? "RepOpt-GhostNet"
                    : "RepOpt-VGG") + " with them");
        }
        Path checkpoint = Trainer.latestCheckpoint(run).orElseThrow(
                () -> new IllegalArgumentException(run + " holds no checkpoint yet"));
        ComputationGraph trained = ModelSerializer.restoreComputationGraph(checkpoint.toFile(), false);
        // Stock DL4J classes only (DeployModel): BN folded, fused conv-BN-ReLU layers split, no training state.
        ComputationGraph plain = family() == ModelFamily.REPVGG ? RepVgg.builder(spec()).build().deploy(trained)
                : trained;
        return DeployModel.of(plain, InputType.convolutional(height, width, channels));
    }

    /**
     * Claims a folder for a new run of the command line: {@link RunFolder#startNew}, and no {@value #FILE} of
     * another command-line run in it.
     *
     * @param dir the {@code --out} folder
     * @return the held folder
     * @throws IllegalStateException when the folder holds a run (nothing is written)
     * @throws IOException           when the folder cannot be created
     */
    static RunFolder startRun(Path dir) throws IOException {
        RunFolder run = RunFolder.startNew(dir);
        if (Files.exists(dir.resolve(FILE))) {
            run.close();
            throw new IllegalStateException(dir + " holds " + dir.resolve(FILE) + " of another run that never "
                    + "finished an epoch; remove the folder, or choose another --out");
        }
        return run;
    }

    /** Writes the file atomically into the held run folder. */
    void write(RunFolder run) throws IOException {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode n = mapper.createObjectNode();
        n.put("model", model);
        n.put("variant", variant);
        n.put("dataset", dataset);
        n.put("data_dir", dataDir);
        n.put("image_size", imageSize);
        n.put("subset", subset);
        n.put("crop_padding", cropPadding);
        n.put("channels", channels);
        n.put("height", height);
        n.put("width", width);
        n.put("classes", classes);
        n.put("scales", scales);
        n.put("momentum", momentum);
        n.put("weight_decay", weightDecay);
        byte[] json = mapper.writeValueAsBytes(n);
        run.write(FILE, out -> out.write(json));
    }

    /**
     * @param dir a run folder
     * @return its run description
     * @throws IllegalArgumentException naming the file and what is wrong, where the folder holds no valid
     *                                  {@value #FILE}
     * @throws IOException              when the file cannot be read
     */
    static RunInfo read(Path dir) throws IOException {
        Path f = dir.resolve(FILE);
        StrictJson.Node n;
        try {
            n = StrictJson.read(f, DESCRIPTION).requireKeys(KEYS);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(dir + " is not a run folder of ./repopt train or search: " + FILE
                    + " is missing", e);
        } catch (JsonFormatException e) {
            throw new IllegalArgumentException(e.getMessage() + "; expected " + DESCRIPTION, e);
        }
        try {
            Integer subset = n.get("subset").isNull() ? null : n.get("subset").integer();
            return new RunInfo(n.get("model").text(), n.get("variant").text(), n.get("dataset").text(),
                    n.optional("data_dir").map(StrictJson.Node::text).orElse(null), n.get("image_size").integer(),
                    subset, n.get("crop_padding").integer(), n.get("channels").integer(), n.get("height").integer(),
                    n.get("width").integer(), n.get("classes").integer(),
                    n.optional("scales").map(StrictJson.Node::text).orElse(null), n.get("momentum").finite(),
                    n.get("weight_decay").finite());
        } catch (JsonFormatException e) {
            throw new IllegalArgumentException(e.getMessage() + "; expected " + DESCRIPTION, e);
        }
    }

    /**
     * Refuses an output that would overwrite a training run's own files ({@link RunFolder#requireNotRunFile}) or its
     * {@value #FILE}.
     *
     * @param target an output file about to be written
     * @throws IllegalArgumentException naming the file and the run
     */
    static void requireNotRunFile(Path target) {
        RunFolder.requireNotRunFile(target);
        Path file = target.toAbsolutePath().normalize();
        if (file.getFileName() != null && file.getFileName().toString().equals(FILE) && file.getParent() != null
                && Files.exists(file)) {
            throw new IllegalArgumentException("output " + target + " is the run description of the run in "
                    + file.getParent() + "; write the output elsewhere");
        }
    }
}
