package org.repopt.check;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;

/**
 * The input a graph takes, as far as its configuration says, and random batches of it. A DL4J configuration does not
 * keep the input type it was built with, so it is read back: a {@code FeedForwardToCnnPreProcessor} on the input
 * names height, width and channels (a {@code MultiLayerConfiguration} built with {@code convolutionalFlat}); otherwise
 * the first layer's {@code nIn} gives the channels and the spatial size is the smallest square one that every layer
 * accepts, with every dense layer's {@code nIn} matched (a flatten fixes the size) and every conv's input at least its
 * kernel (so that every tap of every kernel sees data).
 *
 * @param type    the input type (convolutional, or feed-forward for flat images)
 * @param classes the output layer's units (one-hot labels)
 */
public record NetworkInput(InputType type, int classes) {

    private static final int LARGEST_SIDE = 512;

    /** Validates the fields. */
    public NetworkInput {
        Objects.requireNonNull(type, "type");
        if (classes < 1) {
            throw new IllegalArgumentException("classes must be >= 1, got " + classes);
        }
    }

    /**
     * @param conf a graph configuration with one input and one output layer
     * @return its input type and class count
     * @throws IllegalArgumentException naming the vertex where the input cannot be read back
     */
    public static NetworkInput of(ComputationGraphConfiguration conf) {
        return new NetworkInput(inputType(conf), classes(conf));
    }

    /**
     * @param conf a graph configuration with one output layer
     * @param type the input type the user gives
     * @return the input with the graph's class count
     */
    public static NetworkInput of(ComputationGraphConfiguration conf, InputType type) {
        return new NetworkInput(type, classes(conf));
    }

    /**
     * A reproducible batch of Gaussian inputs with one-hot labels ({@code java.util.Random}: ND4J's generator is not
     * touched).
     *
     * @param n        examples
     * @param seed     seed
     * @param dataType the arrays' type
     * @return the batch
     */
    public DataSet randomBatch(int n, long seed, DataType dataType) {
        Random r = new Random(seed);
        INDArray labels = Nd4j.zeros(dataType, n, classes);
        for (int i = 0; i < n; i++) {
            labels.putScalar(i, r.nextInt(classes), 1.0);
        }
        long[] shape = shape(n);
        long size = 1;
        for (long d : shape) {
            size *= d;
        }
        double[] x = new double[Math.toIntExact(size)];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextGaussian();
        }
        return new DataSet(Nd4j.create(x, shape, DataType.DOUBLE).castTo(dataType), labels);
    }

    /** @return the shape of a batch of {@code n}: NCHW/NHWC for convolutional input, {@code [n, size]} otherwise */
    public long[] shape(int n) {
        if (type instanceof InputType.InputTypeConvolutional) {
            InputType.InputTypeConvolutional c = (InputType.InputTypeConvolutional) type;
            return c.getFormat() == CNN2DFormat.NHWC ? new long[]{n, c.getHeight(), c.getWidth(), c.getChannels()}
                    : new long[]{n, c.getChannels(), c.getHeight(), c.getWidth()};
        }
        return new long[]{n, type.arrayElementsPerExample()};
    }

    /** @return e.g. {@code 1x28x28} (channels x height x width) or {@code 784} */
    public String describe() {
        if (type instanceof InputType.InputTypeConvolutional) {
            InputType.InputTypeConvolutional c = (InputType.InputTypeConvolutional) type;
            return c.getChannels() + "x" + c.getHeight() + "x" + c.getWidth();
        }
        return Long.toString(type.arrayElementsPerExample());
    }

    private static int classes(ComputationGraphConfiguration conf) {
        if (conf.getNetworkOutputs().size() != 1) {
            throw new IllegalArgumentException("expected a graph with one output, got " + conf.getNetworkOutputs());
        }
        String out = conf.getNetworkOutputs().get(0);
        Layer l = layerOf(conf, out);
        if (!(l instanceof BaseOutputLayer) || ((BaseOutputLayer) l).getNOut() < 1) {
            throw new IllegalArgumentException("output '" + out + "': expected an output layer with nOut set (a "
                    + "classifier), got " + (l == null ? "a " + conf.getVertices().get(out).getClass().getSimpleName()
                    : l.getClass().getSimpleName()));
        }
        return Math.toIntExact(((BaseOutputLayer) l).getNOut());
    }

    private static InputType inputType(ComputationGraphConfiguration conf) {
        if (conf.getNetworkInputs().size() != 1) {
            throw new IllegalArgumentException("expected a graph with one input, got " + conf.getNetworkInputs());
        }
        String input = conf.getNetworkInputs().get(0);
        String first = null;
        for (Map.Entry<String, List<String>> e : conf.getVertexInputs().entrySet()) {
            if (e.getValue().contains(input)) {
                first = e.getKey();
                break;
            }
        }
        GraphVertex v = first == null ? null : conf.getVertices().get(first);
        if (v instanceof LayerVertex && ((LayerVertex) v).getPreProcessor() instanceof FeedForwardToCnnPreProcessor) {
            FeedForwardToCnnPreProcessor p = (FeedForwardToCnnPreProcessor) ((LayerVertex) v).getPreProcessor();
            return InputType.feedForward(p.getInputHeight() * p.getInputWidth() * p.getNumChannels());
        }
        Layer l = layerOf(conf, first);
        if (!(l instanceof ConvolutionLayer) || ((ConvolutionLayer) l).getNIn() < 1) {
            throw new IllegalArgumentException("input '" + input + "' feeds " + (first == null ? "nothing"
                    : "'" + first + "' (" + (l == null ? v.getClass().getSimpleName() : l.getClass().getSimpleName())
                    + ")") + ": expected a conv layer with nIn set, to read the image channels from; give the "
                    + "input shape explicitly");
        }
        ConvolutionLayer conv = (ConvolutionLayer) l;
        CNN2DFormat format = conv.getCnn2dDataFormat() == null ? CNN2DFormat.NCHW : conv.getCnn2dDataFormat();
        for (int side = 1; side <= LARGEST_SIDE; side++) {
            InputType candidate = InputType.convolutional(side, side, conv.getNIn(), format);
            if (accepts(conf, candidate)) {
                return candidate;
            }
        }
        throw new IllegalArgumentException("no square input up to " + LARGEST_SIDE + "x" + LARGEST_SIDE + " with "
                + conv.getNIn() + " channels fits every layer of the graph; give the input shape explicitly");
    }

    /**
     * @param conf a graph with one input
     * @param type an input type
     * @return whether every layer accepts {@code type} at the graph's input, dense layers' nIn and conv kernels
     * included
     */
    public static boolean accepts(ComputationGraphConfiguration conf, InputType type) {
        Map<String, InputType> out;
        try {
            out = new HashMap<>(conf.clone().getLayerActivationTypes(false, false, type));
        } catch (RuntimeException e) {
            return false;
        }
        out.put(conf.getNetworkInputs().get(0), type);
        for (Map.Entry<String, GraphVertex> e : conf.getVertices().entrySet()) {
            if (!(e.getValue() instanceof LayerVertex)) {
                continue;
            }
            List<String> in = conf.getVertexInputs().get(e.getKey());
            if (in == null || in.size() != 1 || out.get(in.get(0)) == null) {
                continue;
            }
            InputType t = out.get(in.get(0));
            InputPreProcessor p = ((LayerVertex) e.getValue()).getPreProcessor();
            if (p != null) {
                t = p.getOutputType(t);
            }
            Layer l = ((LayerVertex) e.getValue()).getLayerConf().getLayer();
            if (l instanceof ConvolutionLayer && t instanceof InputType.InputTypeConvolutional) {
                InputType.InputTypeConvolutional c = (InputType.InputTypeConvolutional) t;
                int[] k = ((ConvolutionLayer) l).getKernelSize();
                if (c.getHeight() < k[0] || c.getWidth() < k[1] || c.getChannels() != ((ConvolutionLayer) l).getNIn()) {
                    return false;
                }
            } else if (l instanceof FeedForwardLayer && t instanceof InputType.InputTypeFeedForward) {
                long nIn = ((FeedForwardLayer) l).getNIn();
                if (nIn > 0 && nIn != ((InputType.InputTypeFeedForward) t).getSize()) {
                    return false;
                }
            }
        }
        return true;
    }

    private static Layer layerOf(ComputationGraphConfiguration conf, String vertex) {
        GraphVertex v = vertex == null ? null : conf.getVertices().get(vertex);
        return v instanceof LayerVertex ? ((LayerVertex) v).getLayerConf().getLayer() : null;
    }
}
