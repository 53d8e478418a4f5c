package org.repopt.nn;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.BaseLayer;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ConvolutionUtils;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.repopt.backend.ConvBnReluKernel;
import org.repopt.backend.OneDnn;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.Map;

/**
 * The running layer of a {@link ConvBnReluLayer}: {@code relu(batchnorm(conv(x)))} on oneDNN
 * ({@link ConvBnReluKernel}) where it can, otherwise with DL4J's own convolution, batch-norm and activation layers
 * working on this layer's parameter and gradient views, which is exactly the three-layer computation.
 *
 * <p>The DL4J path is taken, with one log line per layer, for data types other than FLOAT (oneDNN computes in f32
 * only), where oneDNN is not present (CUDA backend, a build without the dnnl natives) and for geometries the kernel
 * cannot serve; {@link #engine()} says which path ran last.
 *
 * <p>The output, and the input gradient, are NHWC buffers presented to DL4J as {@code [N, C, H, W]} permuted views:
 * any layer reads them as ordinary NCHW arrays, and a following {@code ConvBnRelu} reads them without a reorder.
 * Running statistics are updated as DL4J's batch norm updates them: through their "gradient"
 * {@code (1 - decay) * (running - batch)} (for the mean; {@code log10(std)} likewise in its own parameterization),
 * which the updater's no-op rule subtracts, not divided by the minibatch size.
 */
public class ConvBnRelu extends BaseLayer<ConvBnReluLayer> {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ConvBnRelu.class);
    private static final double ONE_OVER_2_LN10 = 1.0 / (2 * Math.log(10.0));

    private transient ConvBnReluKernel kernel;
    private transient Dl4jPath dl4j;
    private transient String fallbackReason;
    private transient boolean fallbackLogged;
    private transient INDArray runningVariance;
    private transient boolean lastForwardOnDl4j;

    /**
     * @param conf     the layer's configuration
     * @param dataType the network's data type
     */
    public ConvBnRelu(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    @Override
    public Type type() {
        return Type.CONVOLUTIONAL;
    }

    @Override
    public boolean isPretrainLayer() {
        return false;
    }

    /** @return {@code oneDNN} or {@code DL4J (<why>)}: which path the last forward pass took */
    public String engine() {
        return lastForwardOnDl4j ? "DL4J (" + fallbackReason + ")" : "oneDNN";
    }

    /** @return the oneDNN implementation of each primitive created so far (empty on the DL4J path) */
    public Map<String, String> implementations() {
        return kernel == null ? Map.of() : kernel.implementations();
    }

    @Override
    public boolean updaterDivideByMinibatch(String paramName) {
        return !ConvBnReluLayer.isRunningStatistic(paramName);
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(false);
        long[] out = outputShape(input);
        ConvBnReluKernel k = kernelFor(input, out);
        lastForwardOnDl4j = k == null;
        if (k == null) {
            // The convolution part applies the input dropout itself.
            return dl4jPath().activate(input, training, workspaceMgr);
        }
        applyDropOutIfNecessary(training, workspaceMgr);
        INDArray z = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT,
                new long[]{out[0], out[2], out[3], out[1]}, 'c').permute(0, 3, 1, 2);
        INDArray w = getParamWithNoise(ConvBnReluLayer.WEIGHT_KEY, training, workspaceMgr);
        INDArray gamma = getParam(BatchNormalizationParamInitializer.GAMMA);
        INDArray beta = getParam(BatchNormalizationParamInitializer.BETA);
        if (training) {
            k.forwardTraining(input, w, gamma, beta, z);
        } else {
            k.forwardInference(input, w, gamma, beta, getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN),
                    runningVariance(), z);
        }
        return z;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(true);
        if (lastForwardOnDl4j) {
            return dl4jPath().backprop(epsilon, workspaceMgr);
        }
        ConvBnReluLayer c = layerConf();
        INDArray dx = null;
        if (c.isInputGradient()) {
            dx = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT,
                    new long[]{input.size(0), input.size(2), input.size(3), input.size(1)}, 'c').permute(0, 3, 1, 2);
        }
        INDArray w = getParamWithNoise(ConvBnReluLayer.WEIGHT_KEY, true, workspaceMgr);
        kernel.backward(input, w, getParam(BatchNormalizationParamInitializer.GAMMA),
                getParam(BatchNormalizationParamInitializer.BETA), epsilon,
                gradientViews.get(ConvBnReluLayer.WEIGHT_KEY), gradientViews.get(BatchNormalizationParamInitializer.GAMMA),
                gradientViews.get(BatchNormalizationParamInitializer.BETA), dx);
        runningStatisticGradients(kernel.batchMean(), kernel.batchVariance());
        Gradient g = new DefaultGradient(gradientsFlattened);
        for (String key : conf.variables()) {
            g.setGradientFor(key, gradientViews.get(key));
        }
        weightNoiseParams.clear();
        return new Pair<>(g, dx == null ? null : backpropDropOutIfPresent(dx));
    }

    /** Writes DL4J's batch-norm "gradients" of the running statistics: what the no-op updater subtracts. */
    private void runningStatisticGradients(float[] batchMean, float[] batchVar) {
        ConvBnReluLayer c = layerConf();
        double decay = c.getDecay();
        float[] mean = ConvBnReluKernel.values(getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN));
        float[] dMean = new float[mean.length];
        for (int i = 0; i < mean.length; i++) {
            dMean[i] = (float) ((mean[i] - batchMean[i]) * (1 - decay));
        }
        ConvBnReluKernel.assign(gradientViews.get(BatchNormalizationParamInitializer.GLOBAL_MEAN), dMean);
        String varKey = varianceKey();
        float[] v = ConvBnReluKernel.values(getParam(varKey));
        float[] dVar = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            if (c.isUseLogStd()) {
                double var = Math.pow(10.0, 2.0 * v[i]);
                double next = var * decay + batchVar[i] * (1 - decay);
                dVar[i] = (float) (Math.log(var / next) * ONE_OVER_2_LN10);
            } else {
                dVar[i] = (float) ((v[i] - batchVar[i]) * (1 - decay));
            }
        }
        ConvBnReluKernel.assign(gradientViews.get(varKey), dVar);
    }

    private String varianceKey() {
        return layerConf().isUseLogStd() ? BatchNormalizationParamInitializer.GLOBAL_LOG_STD
                : BatchNormalizationParamInitializer.GLOBAL_VAR;
    }

    /** @return the running variance as a variance, in a detached array reused across calls */
    private INDArray runningVariance() {
        float[] v = ConvBnReluKernel.values(getParam(varianceKey()));
        if (layerConf().isUseLogStd()) {
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) Math.pow(10.0, 2.0 * v[i]);
            }
        }
        if (runningVariance == null) {
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                runningVariance = Nd4j.create(DataType.FLOAT, v.length);
            }
        }
        ConvBnReluKernel.assign(runningVariance, v);
        return runningVariance;
    }

    /** @return {@code [N, nOut, OH, OW]} for an input, as DL4J's convolution computes it */
    private long[] outputShape(INDArray x) {
        ConvBnReluLayer c = layerConf();
        if (x.rank() != 4 || x.size(1) != c.getNIn()) {
            throw new IllegalArgumentException("layer '" + c.getLayerName() + "': expected input [N, " + c.getNIn()
                    + ", H, W], got " + Arrays.toString(x.shape()));
        }
        int[] hw = ConvolutionUtils.getOutputSize(x, c.getKernelSize(), c.getStride(), c.getPadding(),
                c.getConvolutionMode(), c.getDilation(), c.getCnn2dDataFormat());
        return new long[]{x.size(0), c.getNOut(), hw[0], hw[1]};
    }

    /** @return the oneDNN kernel for this input, or {@code null} when the DL4J path must serve it (logged once) */
    private ConvBnReluKernel kernelFor(INDArray x, long[] out) {
        String why = whyDl4j(x, out);
        if (why != null) {
            if (!fallbackLogged || !why.equals(fallbackReason)) {
                LOG.warn("layer '{}': {}; conv, batch norm and ReLU run on DL4J's three layers",
                        layerConf().getLayerName(), why);
                fallbackLogged = true;
            }
            fallbackReason = why;
            return null;
        }
        return kernel;
    }

    private String whyDl4j(INDArray x, long[] out) {
        if (x.dataType() != DataType.FLOAT || dataType != DataType.FLOAT) {
            return "data type " + dataType + " (oneDNN computes in FLOAT only)";
        }
        if (!OneDnn.available()) {
            return OneDnn.unavailableReason();
        }
        ConvBnReluLayer c = layerConf();
        if (!Arrays.equals(c.getDilation(), new int[]{1, 1})) {
            return "dilation " + Arrays.toString(c.getDilation());
        }
        int[] pad = c.topLeftPadding((int) x.size(2), (int) x.size(3));
        ConvBnReluKernel.Geometry geometry = new ConvBnReluKernel.Geometry((int) c.getNIn(), (int) c.getNOut(),
                c.getKernelSize()[0], c.getKernelSize()[1], c.getStride()[0], c.getStride()[1], pad[0], pad[1],
                c.getEps());
        if (kernel == null || !kernel.geometry().equals(geometry)) {
            if (kernel != null) {
                kernel.close();
            }
            kernel = new ConvBnReluKernel(geometry);
        }
        return kernel.whyNot(x, out);
    }

    private Dl4jPath dl4jPath() {
        if (dl4j == null || dl4j.params != paramsFlattened) {
            dl4j = new Dl4jPath();
        }
        return dl4j;
    }

    @Override
    public void clear() {
        super.clear();
        if (dl4j != null) {
            dl4j.clear();
        }
    }

    /** DL4J's convolution, batch-norm and ReLU layers on views of this layer's parameters and gradients. */
    private final class Dl4jPath {
        private final INDArray params;
        private final long k;
        private INDArray gradients;
        private final Layer conv;
        private final Layer bn;
        private final Layer relu;

        Dl4jPath() {
            ConvBnReluLayer c = layerConf();
            this.params = paramsFlattened;
            k = ConvBnReluParamInitializer.kernelParams(c);
            INDArray p = params.reshape(params.length());
            conv = part(c.toConvolution(), p.get(NDArrayIndex.interval(0, k)));
            bn = part(c.toBatchNormalization(), p.get(NDArrayIndex.interval(k, p.length())));
            relu = part(new ActivationLayer.Builder().activation(Activation.RELU).name(c.getReluName()).build(), null);
        }

        private Layer part(org.deeplearning4j.nn.conf.layers.Layer layer, INDArray view) {
            NeuralNetConfiguration c = conf.clone();
            c.clearVariables();
            c.setLayer(layer);
            return layer.instantiate(c, getListeners(), getIndex(), view, false, dataType);
        }

        /** DL4J creates a network's gradient view after its first forward pass: bind the parts to it on demand. */
        private void bindGradients() {
            if (gradients != gradientsFlattened) {
                gradients = gradientsFlattened;
                INDArray gr = gradients.reshape(gradients.length());
                conv.setBackpropGradientsViewArray(gr.get(NDArrayIndex.interval(0, k)));
                bn.setBackpropGradientsViewArray(gr.get(NDArrayIndex.interval(k, gr.length())));
            }
        }

        INDArray activate(INDArray x, boolean training, LayerWorkspaceMgr mgr) {
            for (Layer l : new Layer[]{conv, bn, relu}) {
                l.setIterationCount(getIterationCount());
                l.setEpochCount(getEpochCount());
            }
            conv.setInput(x, mgr);
            INDArray y = conv.activate(training, mgr);
            bn.setInput(y, mgr);
            INDArray b = bn.activate(training, mgr);
            relu.setInput(b, mgr);
            return relu.activate(training, mgr);
        }

        Pair<Gradient, INDArray> backprop(INDArray epsilon, LayerWorkspaceMgr mgr) {
            bindGradients();
            INDArray e = relu.backpropGradient(epsilon, mgr).getSecond();
            Pair<Gradient, INDArray> b = bn.backpropGradient(e, mgr);
            Pair<Gradient, INDArray> c = conv.backpropGradient(b.getSecond(), mgr);
            Gradient g = new DefaultGradient(gradientsFlattened);
            c.getFirst().gradientForVariable().forEach(g::setGradientFor);
            b.getFirst().gradientForVariable().forEach(g::setGradientFor);
            return new Pair<>(g, layerConf().isInputGradient() ? c.getSecond() : null);
        }

        void clear() {
            conv.clear();
            bn.clear();
            relu.clear();
        }
    }
}
