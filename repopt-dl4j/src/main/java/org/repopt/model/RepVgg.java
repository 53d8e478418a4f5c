package org.repopt.model;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.repopt.nn.ParamValues;

/**
 * RepVGG (Ding et al., CVPR 2021), the structural re-parameterization baseline: blocks of
 * {@code relu(bn(conv3x3(x)) + bn(conv1x1(x)) [+ bn(x)])}, the identity branch where {@code in == out} at stride 1.
 * {@link #deploy(ComputationGraph)} fuses every trained block into one 3x3 conv with bias.
 */
public final class RepVgg extends VggModel {

    private RepVgg(VggModel.Builder<?, ?> b) {
        super(b);
    }

    /** @return a builder for the given architecture */
    public static SimpleBuilder<RepVgg> builder(VggSpec spec) {
        return new SimpleBuilder<>(spec, RepVgg::new);
    }

    @Override
    public String family() {
        return "RepVGG";
    }

    @Override
    protected String addBlock(ComputationGraphConfiguration.GraphBuilder g, BlockSpec b, String input) {
        String n = b.name();
        g.addLayer(LayerNames.conv(n), conv(3, b.stride(), b.out(), false), input);
        g.addLayer(LayerNames.bn3x3(n), bn(), LayerNames.conv(n));
        g.addLayer(LayerNames.conv1x1(n), conv(1, b.stride(), b.out(), false), input);
        g.addLayer(LayerNames.bn1x1(n), bn(), LayerNames.conv1x1(n));
        String summed;
        if (b.hasIdentity()) {
            g.addLayer(LayerNames.bnIdentity(n), bn(), input);
            summed = sum(g, b, LayerNames.bn3x3(n), LayerNames.bn1x1(n), LayerNames.bnIdentity(n));
        } else {
            summed = sum(g, b, LayerNames.bn3x3(n), LayerNames.bn1x1(n));
        }
        return relu(g, b, summed);
    }

    /**
     * Structural re-parameterization: fuses every block of a trained RepVGG network into one 3x3 conv with bias,
     * using the BatchNorm layers' inference statistics. The result is a new plain network
     * ({@code relu(conv3x3(x) + bias)} blocks, {@link FusedVgg}) whose outputs equal {@code trained}'s inference
     * outputs; {@code trained} is not changed.
     *
     * @param trained a network built by this model
     * @return the deploy network, in {@code trained}'s data type
     * @throws IllegalArgumentException where {@code trained} lacks a layer of this architecture
     */
    public ComputationGraph deploy(ComputationGraph trained) {
        FusedVgg fused = FusedVgg.builder(spec()).dataType(trained.getConfiguration().getDataType()).seed(seed())
                .build();
        ComputationGraph out = fused.init();
        for (BlockSpec b : spec().blocks()) {
            String n = b.name();
            double[] kernel = new double[b.out() * b.in() * 9];
            double[] bias = new double[b.out()];
            addBranch(kernel, bias, b, kernelOf(layer(trained, LayerNames.conv(n)), 3),
                    BatchNormAffine.of(layer(trained, LayerNames.bn3x3(n))), 3);
            addBranch(kernel, bias, b, kernelOf(layer(trained, LayerNames.conv1x1(n)), 1),
                    BatchNormAffine.of(layer(trained, LayerNames.bn1x1(n))), 1);
            if (b.hasIdentity()) {
                addBranch(kernel, bias, b, identityKernel(b.out()),
                        BatchNormAffine.of(layer(trained, LayerNames.bnIdentity(n))), 1);
            }
            Layer conv = out.getLayer(LayerNames.conv(n));
            ParamValues.assign(conv.getParam(ConvolutionParamInitializer.WEIGHT_KEY), kernel);
            ParamValues.assign(conv.getParam(ConvolutionParamInitializer.BIAS_KEY), bias);
        }
        for (String key : new String[]{DefaultParamInitializer.WEIGHT_KEY, DefaultParamInitializer.BIAS_KEY}) {
            INDArray src = layer(trained, LayerNames.LINEAR).getParam(key);
            out.getLayer(LayerNames.LINEAR).getParam(key).assign(src);
        }
        return out;
    }

    /** Adds {@code bn(conv_k(x))} as a padded 3x3 kernel and a bias: {@code K * scale[o]}, {@code shift[o]}. */
    private static void addBranch(double[] kernel, double[] bias, BlockSpec b, double[] k, BatchNormAffine bn,
                                  int size) {
        int in = b.in();
        int offset = size == 3 ? 0 : 4;
        for (int o = 0; o < b.out(); o++) {
            double s = bn.scale()[o];
            for (int i = 0; i < in; i++) {
                for (int t = 0; t < size * size; t++) {
                    kernel[(o * in + i) * 9 + offset + t] += s * k[(o * in + i) * size * size + t];
                }
            }
            bias[o] += bn.shift()[o];
        }
    }

    private static double[] identityKernel(int channels) {
        double[] k = new double[channels * channels];
        for (int c = 0; c < channels; c++) {
            k[c * channels + c] = 1.0;
        }
        return k;
    }

    private static double[] kernelOf(Layer conv, int size) {
        INDArray w = conv.getParam(ConvolutionParamInitializer.WEIGHT_KEY);
        if (w.size(2) != size || w.size(3) != size) {
            throw new IllegalArgumentException("layer '" + conv.conf().getLayer().getLayerName() + "': expected a "
                    + size + "x" + size + " kernel, got " + java.util.Arrays.toString(w.shape()));
        }
        return ParamValues.of(w);
    }

    private static Layer layer(ComputationGraph net, String name) {
        Layer l = net.getLayer(name);
        if (l == null) {
            throw new IllegalArgumentException("the network has no layer '" + name + "': not a RepVGG network of "
                    + "this architecture");
        }
        return l;
    }
}
