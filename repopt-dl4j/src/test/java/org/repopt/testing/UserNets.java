package org.repopt.testing;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.repopt.gr.BlockScales;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Networks as a DL4J user writes them (not built by the project's model classes), for the own-network features. */
public final class UserNets {

    private UserNets() {
    }

    /**
     * A user-style VGG graph on 1x12x12 input, 3 classes: {@code ConvolutionMode.Same} 3x3 convs (the last with a
     * bias, as DL4J's default), each feeding BatchNorm then an {@code ActivationLayer}, max-pooling downsampling,
     * global average pooling. Re-parameterizable convs: c1 (1->4), c2 (4->4, identity), c3 (4->6), c4 (6->6,
     * identity).
     */
    public static ComputationGraphConfiguration userStyleGraph() {
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder().seed(42)
                .weightInit(WeightInit.RELU).activation(Activation.IDENTITY).convolutionMode(ConvolutionMode.Same).graphBuilder().addInputs("in")
                .setInputTypes(InputType.convolutional(12, 12, 1));
        g.addLayer("c1", new ConvolutionLayer.Builder(3, 3).nOut(4).hasBias(false).build(), "in");
        g.addLayer("bn1", new BatchNormalization.Builder().build(), "c1");
        g.addLayer("act1", new ActivationLayer(Activation.RELU), "bn1");
        g.addLayer("c2", new ConvolutionLayer.Builder(3, 3).nOut(4).hasBias(false).build(), "act1");
        g.addLayer("bn2", new BatchNormalization.Builder().build(), "c2");
        g.addLayer("act2", new ActivationLayer(Activation.RELU), "bn2");
        g.addLayer("pool", new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build(), "act2");
        g.addLayer("c3", new ConvolutionLayer.Builder(3, 3).nOut(6).hasBias(false).build(), "pool");
        g.addLayer("bn3", new BatchNormalization.Builder().build(), "c3");
        g.addLayer("act3", new ActivationLayer(Activation.RELU), "bn3");
        g.addLayer("c4", new ConvolutionLayer.Builder(3, 3).nOut(6).build(), "act3");
        g.addLayer("bn4", new BatchNormalization.Builder().build(), "c4");
        g.addLayer("act4", new ActivationLayer(Activation.RELU), "bn4");
        g.addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "act4");
        g.addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                .activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER).build(), "gap");
        return g.setOutputs("out").build();
    }

    /**
     * The beginner's {@code MultiLayerNetwork}, LeNet/VGG-style with BatchNorm, on flat 1x12x12 input
     * ({@code convolutionalFlat}), 3 classes: two padded 3x3 convs (Truncate, padding 1; unnamed, so DL4J calls them
     * {@code layer0}, {@code layer4}), BatchNorm, ReLU activation layers, max-pooling, a dense layer after a flatten.
     */
    public static MultiLayerConfiguration multiLayerNet() {
        return new NeuralNetConfiguration.Builder().seed(7).weightInit(WeightInit.RELU).activation(Activation.IDENTITY)
                .list()
                .layer(new ConvolutionLayer.Builder(3, 3).padding(1, 1).nOut(4).hasBias(false).build())
                .layer(new BatchNormalization.Builder().build())
                .layer(new ActivationLayer(Activation.RELU))
                .layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
                .layer(new ConvolutionLayer.Builder(3, 3).padding(1, 1).nOut(4).hasBias(false).build())
                .layer(new BatchNormalization.Builder().build())
                .layer(new ActivationLayer(Activation.RELU))
                .layer(new DenseLayer.Builder().nOut(8).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX)
                        .weightInit(WeightInit.XAVIER).build())
                .setInputType(InputType.convolutionalFlat(12, 12, 1)).build();
    }

    /**
     * A net with depthwise 3x3 + BN blocks on 1x10x10 input, 3 classes: a stem conv (1->6), a depthwise 3x3 at stride
     * 1 ({@code dw1}, identity branch), a pointwise 1x1 conv (not re-parameterizable: 1x1), a depthwise 3x3 at stride 2
     * ({@code dw2}, no identity), each followed by BatchNorm and ReLU.
     */
    public static ComputationGraphConfiguration depthwiseGraph() {
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder().seed(11)
                .weightInit(WeightInit.RELU).activation(Activation.IDENTITY).graphBuilder().addInputs("in")
                .setInputTypes(InputType.convolutional(10, 10, 1));
        g.addLayer("stem", new ConvolutionLayer.Builder(3, 3).padding(1, 1).nOut(6).hasBias(false).build(), "in");
        g.addLayer("stem-bn", new BatchNormalization.Builder().build(), "stem");
        g.addLayer("stem-relu", new ActivationLayer(Activation.RELU), "stem-bn");
        g.addLayer("dw1", new DepthwiseConvolution2D.Builder(3, 3).padding(1, 1).depthMultiplier(1).hasBias(false)
                .build(), "stem-relu");
        g.addLayer("dw1-bn", new BatchNormalization.Builder().build(), "dw1");
        g.addLayer("dw1-relu", new ActivationLayer(Activation.RELU), "dw1-bn");
        g.addLayer("pw", new ConvolutionLayer.Builder(1, 1).nOut(6).hasBias(false).build(), "dw1-relu");
        g.addLayer("pw-bn", new BatchNormalization.Builder().build(), "pw");
        g.addLayer("pw-relu", new ActivationLayer(Activation.RELU), "pw-bn");
        g.addLayer("dw2", new DepthwiseConvolution2D.Builder(3, 3).stride(2, 2).padding(1, 1).depthMultiplier(1)
                .hasBias(false).build(), "pw-relu");
        g.addLayer("dw2-bn", new BatchNormalization.Builder().build(), "dw2");
        g.addLayer("dw2-relu", new ActivationLayer(Activation.RELU), "dw2-bn");
        g.addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "dw2-relu");
        g.addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                .activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER).build(), "gap");
        return g.setOutputs("out").build();
    }

    /** The re-parameterizable convs of {@link #userStyleGraph}: name, in, out, stride. */
    public static final Object[][] USER_STYLE_SITES = {{"c1", 1, 4, 1}, {"c2", 4, 4, 1}, {"c3", 4, 6, 1},
            {"c4", 6, 6, 1}};

    /** Random but reproducible positive scales for the given sites ({name, in, out, stride} rows). */
    public static List<BlockScales> randomScales(Object[][] sites, long seed) {
        Random r = new Random(seed);
        List<BlockScales> out = new ArrayList<>();
        for (Object[] s : sites) {
            int in = (Integer) s[1];
            int outCh = (Integer) s[2];
            int stride = (Integer) s[3];
            out.add(new BlockScales((String) s[0], in, outCh, stride, TinySpecs.positive(r, outCh),
                    TinySpecs.positive(r, outCh), BlockScales.hasIdentityBranch(in, outCh, stride)
                            ? TinySpecs.positive(r, outCh) : null));
        }
        return out;
    }
}
