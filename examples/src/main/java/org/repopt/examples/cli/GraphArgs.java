package org.repopt.examples.cli;

import org.deeplearning4j.nn.conf.inputs.InputType;
import org.repopt.check.NetworkInput;
import org.repopt.data.ImageDataset;
import org.repopt.gr.NetworkConfigFile;
import org.repopt.gr.ScalesFile;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** The user's own network on the command line: {@code --graph FILE.json}, as DL4J's {@code toJson()} writes it. */
final class GraphArgs {

    private GraphArgs() {
    }

    /**
     * @param file the {@code --graph} file
     * @return the configuration, either kind
     * @throws IOException when the file cannot be read
     * @throws IllegalArgumentException naming the file when it is missing or not a DL4J configuration
     */
    static NetworkConfigFile read(Path file) throws IOException {
        try {
            return NetworkConfigFile.read(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("--graph " + file + ": no such file; expected your network's "
                    + "configuration as DL4J's toJson() writes it (ComputationGraphConfiguration or "
                    + "MultiLayerConfiguration)", e);
        }
    }

    /**
     * @param file the {@code --scales} file
     * @return the scales
     * @throws IOException when the file cannot be read or is no scales file (the message names it)
     */
    static ScalesFile scales(Path file) throws IOException {
        try {
            return ScalesFile.read(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("--scales " + file + ": no such file; expected a scales file written by "
                    + "./repopt search --graph", e);
        }
    }

    /** Whether the network reshapes flat input to the images' shape first (DL4J's convolutionalFlat: 4D also works). */
    private static boolean takesFlat(NetworkConfigFile net, InputType images) {
        try {
            InputType own = NetworkInput.of(net.graph()).type();
            return own instanceof InputType.InputTypeFeedForward
                    && own.arrayElementsPerExample() == images.arrayElementsPerExample();
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * @param net  the user's network
     * @param data the data set it is to train on
     * @throws IllegalArgumentException naming the file when the network does not take the data's images or classes
     */
    static void requireFits(NetworkConfigFile net, ImageDataset data) {
        InputType images = InputType.convolutional(data.height(), data.width(), data.channels());
        NetworkInput input = NetworkInput.of(net.graph(), images);
        if (!NetworkInput.accepts(net.graph(), images) && !takesFlat(net, images)) {
            throw new IllegalArgumentException("--graph " + net.file() + ": the network does not take " + data.name()
                    + "'s " + data.channels() + "x" + data.height() + "x" + data.width() + " images (a layer's nIn or "
                    + "kernel does not fit them); build it with InputType.convolutional(" + data.height() + ", "
                    + data.width() + ", " + data.channels() + ")");
        }
        if (input.classes() != data.numClasses()) {
            throw new IllegalArgumentException("--graph " + net.file() + ": the output layer has " + input.classes()
                    + " units, " + data.name() + " has " + data.numClasses() + " classes");
        }
    }
}
