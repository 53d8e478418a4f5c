package org.repopt.deploy.onnx;

import onnx.Onnx;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.Upsampling2D;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.params.DepthwiseConvolutionParamInitializer;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationHardSigmoid;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.shade.protobuf.ByteString;
import org.repopt.deploy.DeployModel;
import org.repopt.deploy.UnsupportedLayerException;
import org.repopt.io.AtomicFiles;
import org.repopt.model.BatchNormAffine;
import org.repopt.nn.ParamValues;
import org.repopt.quant.Granularity;
import org.repopt.quant.Int8Tensor;
import org.repopt.quant.QuantPoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * ONNX export of a {@linkplain DeployModel deploy model}, written with the ONNX protobuf classes nd4j-api ships (no
 * other dependency). Opset {@value #OPSET}, IR version {@value #IR_VERSION}; one float input
 * {@code [batch, C, H, W]} (NCHW, batch dynamic) and one float output per network output. See docs/METHOD.md
 * ("Deployment").
 *
 * <p>Mapped: DL4J's ConvolutionLayer and DepthwiseConvolution2D (NCHW; Truncate or Strict convolution mode with
 * explicit padding) to {@code Conv}; their activations and ActivationLayer (identity, ReLU, ReLU6, sigmoid, tanh,
 * hard sigmoid, leaky ReLU, softmax); BatchNormalization (as its inference affine map, {@code Mul}, {@code Add});
 * SubsamplingLayer (max, or average without padding); GlobalPoolingLayer (average, max); DenseLayer and
 * OutputLayer to {@code Gemm}; DropoutLayer to nothing; Upsampling2D of a 1x1 map to {@code Expand}; the CNN to
 * feed-forward preprocessor to {@code Flatten}; ElementWiseVertex (add, subtract, product, max, average) and
 * MergeVertex. Anything else is refused with an {@link UnsupportedLayerException} naming the layer.
 *
 * <p>The INT8 form ({@link #int8}) is QDQ as ONNX Runtime's CPU INT8 path expects: {@code QuantizeLinear} /
 * {@code DequantizeLinear} pairs at each calibrated activation point; every convolution and dense kernel as INT8
 * codes ({@link Int8Tensor}: symmetric, zero point 0, per tensor or per output channel) behind a
 * {@code DequantizeLinear}; biases as int32 at scale {@code s_in * s_w} behind a {@code DequantizeLinear}.
 */
public final class OnnxExport {

    /** The ONNX operator set written. */
    public static final int OPSET = 13;
    /** The ONNX IR version written (that of opset 13). */
    public static final long IR_VERSION = 7;
    /** The producer name in the file. */
    public static final String PRODUCER = "repopt-dl4j";

    /**
     * The network input as the file documents it.
     *
     * @param name          the ONNX input's name
     * @param channels      channels
     * @param height        height
     * @param width         width
     * @param normalization how pixels become the input values, e.g. {@code (pixel / 255 - 0.286) / 0.353}
     */
    public record Input(String name, int channels, int height, int width, String normalization) {
        /** Validates. */
        public Input {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(normalization, "normalization");
            if (channels < 1 || height < 1 || width < 1) {
                throw new IllegalArgumentException("input " + name + ": shape " + channels + "x" + height + "x"
                        + width + " must be positive");
            }
        }

        InputType type() {
            return InputType.convolutional(height, width, channels);
        }
    }

    /**
     * The INT8 quantization of a model: the calibrated activation points, the weights' granularity and how the INT8
     * weight codes are stored.
     *
     * @param points          activation quantizers (network input and vertex outputs), as the simulation uses them
     * @param weights         per-tensor or per-channel weight scales
     * @param unsignedWeights store the symmetric codes {@code q} in {@code [-127, 127]} as uint8 {@code q + 128} with
     *                        zero point 128 (the same values): ONNX Runtime then multiplies uint8 by uint8 (U8U8),
     *                        exact on every x86 CPU. Signed int8 weights (U8S8) are faster, but on x86 CPUs without
     *                        VNNI ONNX Runtime sums pairs of uint8 x int8 products in 16 bits (VPMADDUBSW), which
     *                        saturates where both are large
     */
    public record Int8Plan(List<QuantPoint> points, Granularity weights, boolean unsignedWeights) {
        /** Copies. */
        public Int8Plan {
            points = List.copyOf(points);
            Objects.requireNonNull(weights, "weights");
        }

        /** The plan with unsigned weight codes (exact on every CPU). */
        public Int8Plan(List<QuantPoint> points, Granularity weights) {
            this(points, weights, true);
        }
    }

    private OnnxExport() {
    }

    /**
     * @param deploy   a deploy model ({@link DeployModel#of}); not modified
     * @param input    its input
     * @param metadata further metadata_props (model family, source run, ...)
     * @return the float ONNX model
     * @throws UnsupportedLayerException naming the first layer without an ONNX form
     */
    public static Onnx.ModelProto fp32(ComputationGraph deploy, Input input, Map<String, String> metadata) {
        return new Writer(deploy, input, null).model(metadata, "fp32");
    }

    /**
     * @param deploy   a deploy model ({@link DeployModel#of}); not modified
     * @param input    its input
     * @param plan     the quantization
     * @param metadata further metadata_props
     * @return the QDQ INT8 ONNX model
     * @throws UnsupportedLayerException naming the first layer without an ONNX form, or a weighted layer whose input
     *                                   has no quantization point
     */
    public static Onnx.ModelProto int8(ComputationGraph deploy, Input input, Int8Plan plan,
                                       Map<String, String> metadata) {
        return new Writer(deploy, input, plan).model(metadata, "int8-qdq-" + plan.weights().name().toLowerCase()
                + (plan.unsignedWeights() ? "-u8-weights" : "-s8-weights"));
    }

    /**
     * Writes a model atomically.
     *
     * @param model the model
     * @param file  the file; its folder must exist
     * @throws IllegalArgumentException naming the file when its folder is missing
     * @throws IOException              when writing fails (nothing is left at {@code file})
     */
    public static void write(Onnx.ModelProto model, Path file) throws IOException {
        DeployModel.requireFolder(file);
        AtomicFiles.write(file, model::writeTo);
    }

    /** @return a model's metadata_props as a map */
    public static Map<String, String> metadata(Onnx.ModelProto model) {
        Map<String, String> out = new LinkedHashMap<>();
        model.getMetadataPropsList().forEach(e -> out.put(e.getKey(), e.getValue()));
        return out;
    }

    /** One walk over the deploy graph. */
    private static final class Writer {
        private final ComputationGraph net;
        private final ComputationGraphConfiguration conf;
        private final Input input;
        private final Int8Plan plan;
        private final Map<String, QuantPoint> points = new HashMap<>();
        private final Map<String, InputType> types;
        private final Onnx.GraphProto.Builder g = Onnx.GraphProto.newBuilder();
        /** DL4J vertex (or network input) to the ONNX tensor holding its output. */
        private final Map<String, String> tensor = new HashMap<>();
        /** ONNX tensor to its quantization scale, where it is the output of a DequantizeLinear. */
        private final Map<String, Double> tensorScale = new HashMap<>();
        private int nodes;

        Writer(ComputationGraph net, Input input, Int8Plan plan) {
            this.net = net;
            this.conf = net.getConfiguration();
            this.input = input;
            this.plan = plan;
            if (conf.getNetworkInputs().size() != 1) {
                throw new UnsupportedLayerException(String.join(",", conf.getNetworkInputs()),
                        "ONNX export takes a network with one input, this one has " + conf.getNetworkInputs().size());
            }
            if (plan != null) {
                for (QuantPoint p : plan.points()) {
                    if (points.put(p.after(), p) != null) {
                        throw new IllegalArgumentException("quantization point after '" + p.after()
                                + "' is given twice");
                    }
                    if (!conf.getVertices().containsKey(p.after()) && !conf.getNetworkInputs().contains(p.after())) {
                        throw new IllegalArgumentException("quantization point after '" + p.after()
                                + "': the network has no such vertex");
                    }
                }
            }
            try {
                this.types = conf.getLayerActivationTypes(input.type());
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("the network does not take input " + input.channels() + "x"
                        + input.height() + "x" + input.width() + ": " + e.getMessage(), e);
            }
        }

        Onnx.ModelProto model(Map<String, String> metadata, String precision) {
            String in = conf.getNetworkInputs().get(0);
            g.setName(PRODUCER + "-" + precision);
            g.addInput(valueInfo(input.name(), List.of(-1L, (long) input.channels(), (long) input.height(),
                    (long) input.width())));
            tensor.put(in, quantized(in, input.name()));
            for (String name : order()) {
                tensor.put(name, quantized(name, vertex(name)));
            }
            List<String> outputs = new ArrayList<>();
            for (String out : conf.getNetworkOutputs()) {
                InputType t = types.get(out);
                String name = conf.getNetworkOutputs().size() == 1 ? "output" : "output_" + out;
                node("Identity", List.of(tensor.get(out)), name, Map.of());
                if (!(t instanceof InputType.InputTypeFeedForward)) {
                    throw new UnsupportedLayerException(out, "network output of type " + t
                            + ": ONNX export writes feed-forward outputs [batch, classes]");
                }
                g.addOutput(valueInfo(name, List.of(-1L, ((InputType.InputTypeFeedForward) t).getSize())));
                outputs.add(name);
            }
            Onnx.ModelProto.Builder m = Onnx.ModelProto.newBuilder().setIrVersion(IR_VERSION)
                    .setProducerName(PRODUCER).setProducerVersion("0.1.0").setModelVersion(1)
                    .setDocString("Deploy model of repopt-dl4j (" + precision + ")").setGraph(g)
                    .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET));
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("opset", Integer.toString(OPSET));
            meta.put("precision", precision);
            meta.put("input_name", input.name());
            meta.put("input_shape", "batch," + input.channels() + "," + input.height() + "," + input.width());
            meta.put("input_layout", "NCHW float32");
            meta.put("input_normalization", input.normalization());
            meta.put("output_names", String.join(",", outputs));
            meta.put("output_meaning", "class probabilities (softmax), one row per image");
            meta.putAll(metadata);
            meta.forEach((k, v) -> m.addMetadataProps(Onnx.StringStringEntryProto.newBuilder().setKey(k)
                    .setValue(v)));
            return m.build();
        }

        private List<String> order() {
            List<String> o = conf.getTopologicalOrderStr();
            List<String> out = new ArrayList<>();
            for (String n : o) {
                if (conf.getVertices().containsKey(n)) {
                    out.add(n);
                }
            }
            return out;
        }

        private InputType typeOfInput(String name, int i) {
            String src = conf.getVertexInputs().get(name).get(i);
            return conf.getNetworkInputs().contains(src) ? input.type() : types.get(src);
        }

        /** Adds the ONNX nodes of one vertex; returns its output tensor. */
        private String vertex(String name) {
            GraphVertex v = conf.getVertices().get(name);
            List<String> ins = new ArrayList<>();
            conf.getVertexInputs().get(name).forEach(i -> ins.add(tensor.get(i)));
            if (v instanceof LayerVertex) {
                String x = ins.get(0);
                if (ins.size() != 1) {
                    throw new UnsupportedLayerException(name, "a layer with " + ins.size() + " inputs");
                }
                InputPreProcessor pp = ((LayerVertex) v).getPreProcessor();
                if (pp instanceof CnnToFeedForwardPreProcessor) {
                    if (((CnnToFeedForwardPreProcessor) pp).getFormat() != CNN2DFormat.NCHW) {
                        throw new UnsupportedLayerException(name, "preprocessor " + pp + ": NCHW only");
                    }
                    x = node("Flatten", List.of(x), name + "/flatten", Map.of("axis", 1L));
                } else if (pp != null) {
                    throw new UnsupportedLayerException(name, "input preprocessor " + pp.getClass().getSimpleName()
                            + " has no ONNX form here");
                }
                return layer(name, ((LayerVertex) v).getLayerConf().getLayer(), x);
            }
            if (v instanceof ElementWiseVertex) {
                ElementWiseVertex.Op op = ((ElementWiseVertex) v).getOp();
                switch (op) {
                    case Add:
                        return node(ins.size() == 2 ? "Add" : "Sum", ins, name, Map.of());
                    case Max:
                        return node("Max", ins, name, Map.of());
                    case Average:
                        return node("Mean", ins, name, Map.of());
                    case Subtract:
                        return node("Sub", ins, name, Map.of());
                    case Product:
                        String acc = ins.get(0);
                        for (int i = 1; i < ins.size(); i++) {
                            acc = node("Mul", List.of(acc, ins.get(i)), i == ins.size() - 1 ? name : name + "/" + i,
                                    Map.of());
                        }
                        return acc;
                    default:
                        throw new UnsupportedLayerException(name, "element-wise " + op + " has no ONNX form here");
                }
            }
            if (v instanceof MergeVertex) {
                return node("Concat", ins, name, Map.of("axis", 1L));
            }
            throw new UnsupportedLayerException(name, "vertex " + v.getClass().getSimpleName()
                    + " has no ONNX form here");
        }

        private String layer(String name, org.deeplearning4j.nn.conf.layers.Layer l, String x) {
            Layer running = net.getLayer(name);
            if (l.getClass() == ConvolutionLayer.class || l.getClass() == DepthwiseConvolution2D.class) {
                return convolution(name, (ConvolutionLayer) l, running, x);
            }
            if (l.getClass() == DenseLayer.class || l.getClass() == OutputLayer.class) {
                IActivation act = ((org.deeplearning4j.nn.conf.layers.BaseLayer) l).getActivationFn();
                INDArray w = running.getParam(DefaultParamInitializer.WEIGHT_KEY);
                INDArray b = running.getParam(DefaultParamInitializer.BIAS_KEY);
                String wt = weight(name, w, 1, x);
                List<String> in = new ArrayList<>(List.of(x, wt));
                if (b != null) {
                    in.add(bias(name, ParamValues.of(b), x, w, 1));
                }
                String y = node("Gemm", in, activationNeeded(act) ? name + "/gemm" : name, Map.of());
                return activation(name, act, y, name);
            }
            if (l instanceof ActivationLayer) {
                return activation(name, ((ActivationLayer) l).getActivationFn(), x, name);
            }
            if (l.getClass() == DropoutLayer.class) {
                return node("Identity", List.of(x), name, Map.of());
            }
            if (l.getClass() == BatchNormalization.class) {
                BatchNormAffine a = BatchNormAffine.of(running);
                InputType t = typeOfInput(name, 0);
                List<Long> shape = t instanceof InputType.InputTypeConvolutional
                        ? List.of((long) a.channels(), 1L, 1L) : List.of((long) a.channels());
                String k = floats(name + "/scale", a.scale(), shape);
                String s = floats(name + "/shift", a.shift(), shape);
                return node("Add", List.of(node("Mul", List.of(x, k), name + "/mul", Map.of()), s), name, Map.of());
            }
            if (l.getClass() == GlobalPoolingLayer.class) {
                GlobalPoolingLayer p = (GlobalPoolingLayer) l;
                String op = p.getPoolingType() == PoolingType.AVG ? "GlobalAveragePool"
                        : p.getPoolingType() == PoolingType.MAX ? "GlobalMaxPool" : null;
                if (op == null || !(typeOfInput(name, 0) instanceof InputType.InputTypeConvolutional)) {
                    throw new UnsupportedLayerException(name, "global " + p.getPoolingType() + " pooling of "
                            + typeOfInput(name, 0) + ": ONNX export takes average or max pooling of a CNN map");
                }
                if (!p.isCollapseDimensions()) {
                    return node(op, List.of(x), name, Map.of());
                }
                return node("Flatten", List.of(node(op, List.of(x), name + "/pool", Map.of())), name,
                        Map.of("axis", 1L));
            }
            if (l.getClass() == SubsamplingLayer.class) {
                SubsamplingLayer p = (SubsamplingLayer) l;
                boolean padded = p.getPadding()[0] != 0 || p.getPadding()[1] != 0;
                if (p.getConvolutionMode() == ConvolutionMode.Same || p.getDilation()[0] != 1
                        || p.getDilation()[1] != 1 || (p.getPoolingType() != PoolingType.MAX
                        && (p.getPoolingType() != PoolingType.AVG || padded))) {
                    throw new UnsupportedLayerException(name, p.getPoolingType() + " pooling with mode "
                            + p.getConvolutionMode() + ", padding " + Arrays.toString(p.getPadding())
                            + ": ONNX export takes max pooling, or average pooling without padding, in Truncate mode");
                }
                Map<String, Object> attrs = new LinkedHashMap<>();
                attrs.put("kernel_shape", longs(p.getKernelSize()));
                attrs.put("strides", longs(p.getStride()));
                attrs.put("pads", List.of((long) p.getPadding()[0], (long) p.getPadding()[1],
                        (long) p.getPadding()[0], (long) p.getPadding()[1]));
                return node(p.getPoolingType() == PoolingType.MAX ? "MaxPool" : "AveragePool", List.of(x), name, attrs);
            }
            if (l.getClass() == Upsampling2D.class) {
                InputType t = typeOfInput(name, 0);
                InputType out = types.get(name);
                if (!(t instanceof InputType.InputTypeConvolutional)
                        || ((InputType.InputTypeConvolutional) t).getHeight() != 1
                        || ((InputType.InputTypeConvolutional) t).getWidth() != 1
                        || ((InputType.InputTypeConvolutional) t).getFormat() != CNN2DFormat.NCHW) {
                    throw new UnsupportedLayerException(name, "upsampling of " + t
                            + ": ONNX export takes the upsampling of a 1x1 NCHW map (a gate) only");
                }
                InputType.InputTypeConvolutional o = (InputType.InputTypeConvolutional) out;
                String shape = int64s(name + "/shape", new long[]{1, 1, o.getHeight(), o.getWidth()});
                return node("Expand", List.of(x, shape), name, Map.of());
            }
            throw new UnsupportedLayerException(name, "layer " + l.getClass().getSimpleName()
                    + " has no ONNX form here");
        }

        private String convolution(String name, ConvolutionLayer c, Layer running, String x) {
            if (c.getCnn2dDataFormat() != CNN2DFormat.NCHW) {
                throw new UnsupportedLayerException(name, "data format " + c.getCnn2dDataFormat() + ": NCHW only");
            }
            if (c.getConvolutionMode() != ConvolutionMode.Truncate && c.getConvolutionMode() != ConvolutionMode.Strict) {
                throw new UnsupportedLayerException(name, "convolution mode " + c.getConvolutionMode()
                        + ": ONNX export takes Truncate or Strict with explicit padding (Same pads asymmetrically "
                        + "at stride 2)");
            }
            boolean depthwise = c instanceof DepthwiseConvolution2D;
            INDArray w = running.getParam(depthwise ? DepthwiseConvolutionParamInitializer.WEIGHT_KEY
                    : ConvolutionParamInitializer.WEIGHT_KEY);
            INDArray b = running.getParam(depthwise ? DepthwiseConvolutionParamInitializer.BIAS_KEY
                    : ConvolutionParamInitializer.BIAS_KEY);
            long group = 1;
            if (depthwise) {
                // DL4J [kH, kW, C, M] to ONNX [C * M, 1, kH, kW]
                long channels = w.size(2);
                group = channels;
                w = w.permute(2, 3, 0, 1).dup('c').reshape('c', channels * w.size(3), 1, w.size(0), w.size(1));
            }
            Map<String, Object> attrs = new LinkedHashMap<>();
            attrs.put("kernel_shape", longs(c.getKernelSize()));
            attrs.put("strides", longs(c.getStride()));
            attrs.put("dilations", longs(c.getDilation()));
            attrs.put("pads", List.of((long) c.getPadding()[0], (long) c.getPadding()[1], (long) c.getPadding()[0],
                    (long) c.getPadding()[1]));
            attrs.put("group", group);
            List<String> in = new ArrayList<>(List.of(x, weight(name, w, 0, x)));
            if (b != null) {
                in.add(bias(name, ParamValues.of(b), x, w, 0));
            }
            IActivation act = c.getActivationFn();
            String y = node("Conv", in, activationNeeded(act) ? name + "/conv" : name, attrs);
            return activation(name, act, y, name);
        }

        /** A kernel: float, or INT8 codes behind a DequantizeLinear. */
        private String weight(String layer, INDArray w, int channelAxis, String x) {
            if (plan == null) {
                return floats(layer + "/W", ParamValues.of(w), shapeOf(w));
            }
            requireQuantizedInput(layer, x);
            Int8Tensor q = Int8Tensor.quantize(w.castTo(DataType.DOUBLE), plan.weights(), channelAxis);
            double[] scales = nonZero(q.scales());
            String codes = layer + "/W_int8";
            byte[] q8 = q.codes();
            int codeType = Onnx.TensorProto.DataType.INT8_VALUE;
            byte zero = 0;
            if (plan.unsignedWeights()) {
                q8 = q8.clone();
                for (int i = 0; i < q8.length; i++) {
                    q8[i] = (byte) (q8[i] + 128);   // two's complement: the uint8 code q + 128
                }
                codeType = Onnx.TensorProto.DataType.UINT8_VALUE;
                zero = (byte) 128;
            }
            g.addInitializer(Onnx.TensorProto.newBuilder().setName(codes)
                    .setDataType(codeType).addAllDims(shapeOf(w))
                    .setRawData(ByteString.copyFrom(q8)));
            boolean perChannel = scales.length > 1 || plan.weights() == Granularity.PER_CHANNEL;
            List<Long> sShape = perChannel ? List.of((long) scales.length) : List.of();
            String scale = floats(layer + "/W_scale", scales, sShape);
            byte[] zeros = new byte[perChannel ? scales.length : 1];
            java.util.Arrays.fill(zeros, zero);
            String zp = tensorBytes(layer + "/W_zero_point", codeType, zeros, sShape);
            return node("DequantizeLinear", List.of(codes, scale, zp), layer + "/W",
                    perChannel ? Map.of("axis", (long) channelAxis) : Map.of());
        }

        /** A bias: float, or int32 at scale {@code s_in * s_w} behind a DequantizeLinear. */
        private String bias(String layer, double[] b, String x, INDArray w, int channelAxis) {
            if (plan == null) {
                return floats(layer + "/b", b, List.of((long) b.length));
            }
            double sIn = requireQuantizedInput(layer, x);
            double[] sW = nonZero(Int8Tensor.quantize(w.castTo(DataType.DOUBLE), plan.weights(), channelAxis)
                    .scales());
            boolean perChannel = sW.length > 1 || plan.weights() == Granularity.PER_CHANNEL;
            double[] scale = new double[perChannel ? b.length : 1];
            ByteBuffer codes = ByteBuffer.allocate(4 * b.length).order(ByteOrder.LITTLE_ENDIAN);
            for (int o = 0; o < b.length; o++) {
                double s = (float) sIn * (float) sW[perChannel ? o : 0];
                scale[perChannel ? o : 0] = s;
                double q = Math.rint(b[o] / s);
                codes.putInt((int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, q)));
            }
            List<Long> sShape = perChannel ? List.of((long) b.length) : List.of();
            String name = layer + "/b_int32";
            g.addInitializer(Onnx.TensorProto.newBuilder().setName(name)
                    .setDataType(Onnx.TensorProto.DataType.INT32_VALUE).addDims(b.length)
                    .setRawData(ByteString.copyFrom(codes.array())));
            String s = floats(layer + "/b_scale", scale, sShape);
            String zp = tensorBytes(layer + "/b_zero_point", Onnx.TensorProto.DataType.INT32_VALUE,
                    new byte[4 * scale.length], sShape);
            return node("DequantizeLinear", List.of(name, s, zp), layer + "/b", perChannel ? Map.of("axis", 0L)
                    : Map.of());
        }

        private double requireQuantizedInput(String layer, String x) {
            Double s = tensorScale.get(x);
            if (s == null) {
                throw new UnsupportedLayerException(layer, "its input is not quantized: INT8 export needs a "
                        + "quantization point on every weighted layer's input");
            }
            return s;
        }

        /** A zero scale (an all-zero channel) would make the bias scale 0: its codes are 0 at any scale. */
        private static double[] nonZero(double[] scales) {
            double[] out = scales.clone();
            for (int i = 0; i < out.length; i++) {
                if (out[i] == 0) {
                    out[i] = 1;
                }
            }
            return out;
        }

        /** Adds QuantizeLinear + DequantizeLinear after a vertex's output if a point names it. */
        private String quantized(String vertex, String t) {
            QuantPoint p = points.get(vertex);
            if (p == null) {
                return t;
            }
            float scale = (float) p.scale();
            String s = floats(vertex + "/act_scale", new double[]{scale}, List.of());
            String zp = tensorBytes(vertex + "/act_zero_point", p.signed() ? Onnx.TensorProto.DataType.INT8_VALUE
                    : Onnx.TensorProto.DataType.UINT8_VALUE, new byte[1], List.of());
            String q = node("QuantizeLinear", List.of(t, s, zp), vertex + "/quantized", Map.of());
            String dq = node("DequantizeLinear", List.of(q, s, zp), vertex + "/dequantized", Map.of());
            tensorScale.put(dq, (double) scale);
            return dq;
        }

        private static boolean activationNeeded(IActivation a) {
            return a != null && !(a instanceof ActivationIdentity);
        }

        private String activation(String layer, IActivation a, String x, String out) {
            if (!activationNeeded(a)) {
                return x.equals(out) ? x : node("Identity", List.of(x), out, Map.of());
            }
            if (a instanceof ActivationReLU) {
                ActivationReLU r = (ActivationReLU) a;
                boolean plain = r.getMax() == null && (r.getThreshold() == null || r.getThreshold() == 0)
                        && (r.getNegativeSlope() == null || r.getNegativeSlope() == 0);
                if (plain) {
                    return node("Relu", List.of(x), out, Map.of());
                }
            } else if (a instanceof ActivationReLU6) {
                return node("Clip", List.of(x, floats(layer + "/min", new double[]{0}, List.of()),
                        floats(layer + "/max", new double[]{6}, List.of())), out, Map.of());
            } else if (a instanceof ActivationSigmoid) {
                return node("Sigmoid", List.of(x), out, Map.of());
            } else if (a instanceof ActivationTanH) {
                return node("Tanh", List.of(x), out, Map.of());
            } else if (a instanceof ActivationHardSigmoid) {
                // DL4J's hard sigmoid is clamp(0.2 x + 0.5, 0, 1)
                return node("HardSigmoid", List.of(x), out, Map.of("alpha", 0.2f, "beta", 0.5f));
            } else if (a instanceof ActivationLReLU) {
                return node("LeakyRelu", List.of(x), out, Map.of("alpha", (float) ((ActivationLReLU) a).getAlpha()));
            } else if (a instanceof ActivationSoftmax) {
                return node("Softmax", List.of(x), out, Map.of("axis", 1L));
            }
            throw new UnsupportedLayerException(layer, "activation " + a + " has no ONNX form here");
        }

        private String node(String op, List<String> inputs, String output, Map<String, ?> attrs) {
            Onnx.NodeProto.Builder n = Onnx.NodeProto.newBuilder().setOpType(op).setName(op + "_" + nodes++)
                    .addAllInput(inputs).addOutput(output);
            for (Map.Entry<String, ?> e : attrs.entrySet()) {
                Onnx.AttributeProto.Builder a = Onnx.AttributeProto.newBuilder().setName(e.getKey());
                Object v = e.getValue();
                if (v instanceof Long) {
                    a.setType(Onnx.AttributeProto.AttributeType.INT).setI((Long) v);
                } else if (v instanceof Float) {
                    a.setType(Onnx.AttributeProto.AttributeType.FLOAT).setF((Float) v);
                } else if (v instanceof List) {
                    a.setType(Onnx.AttributeProto.AttributeType.INTS);
                    for (Object o : (List<?>) v) {
                        a.addInts((Long) o);
                    }
                } else {
                    throw new IllegalStateException("attribute " + e.getKey() + " of type " + v.getClass());
                }
                n.addAttribute(a);
            }
            g.addNode(n);
            return output;
        }

        private String floats(String name, double[] values, List<Long> shape) {
            ByteBuffer buf = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
            for (double v : values) {
                buf.putFloat((float) v);
            }
            return tensorBytes(name, Onnx.TensorProto.DataType.FLOAT_VALUE, buf.array(), shape);
        }

        private String int64s(String name, long[] values) {
            ByteBuffer buf = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
            for (long v : values) {
                buf.putLong(v);
            }
            return tensorBytes(name, Onnx.TensorProto.DataType.INT64_VALUE, buf.array(),
                    List.of((long) values.length));
        }

        private String tensorBytes(String name, int type, byte[] raw, List<Long> shape) {
            g.addInitializer(Onnx.TensorProto.newBuilder().setName(name).setDataType(type).addAllDims(shape)
                    .setRawData(ByteString.copyFrom(raw)));
            return name;
        }

        private static List<Long> shapeOf(INDArray a) {
            List<Long> s = new ArrayList<>();
            for (long d : a.shape()) {
                s.add(d);
            }
            return s;
        }

        private static List<Long> longs(int[] v) {
            List<Long> out = new ArrayList<>();
            for (int i : v) {
                out.add((long) i);
            }
            return out;
        }

        private static Onnx.ValueInfoProto valueInfo(String name, List<Long> dims) {
            Onnx.TensorShapeProto.Builder shape = Onnx.TensorShapeProto.newBuilder();
            for (long d : dims) {
                shape.addDim(d < 0 ? Onnx.TensorShapeProto.Dimension.newBuilder().setDimParam("batch")
                        : Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
            }
            return Onnx.ValueInfoProto.newBuilder().setName(name).setType(Onnx.TypeProto.newBuilder()
                    .setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(Onnx.TensorProto.DataType.FLOAT_VALUE)
                            .setShape(shape))).build();
        }
    }
}
