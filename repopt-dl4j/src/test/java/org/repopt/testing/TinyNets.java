package org.repopt.testing;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.learning.regularization.L2Regularization;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.repopt.gr.BlockScales;
import org.repopt.nn.ChannelScaleLayer;

import java.util.List;

/** Small graphs for the core's tests, independent of the model family builders. */
public final class TinyNets {

    private TinyNets() {
    }

    /** input -> [conv_i(3x3, pad 1, no bias) -> bn_i -> relu_i] -> gap -> out(softmax). */
    public static ComputationGraphConfiguration plain(List<BlockScales> blocks, int classes, int height, int width,
                                                      DataType type, long seed) {
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder()
                .seed(seed).dataType(type).updater(new Sgd(0.1)).weightInit(WeightInit.RELU)
                .graphBuilder().addInputs("in");
        String prev = "in";
        for (int i = 0; i < blocks.size(); i++) {
            BlockScales b = blocks.get(i);
            g.addLayer("conv" + i, new ConvolutionLayer.Builder(3, 3).stride(b.stride(), b.stride()).padding(1, 1)
                    .convolutionMode(ConvolutionMode.Truncate).hasBias(false).nOut(b.outChannels())
                    .activation(Activation.IDENTITY).build(), prev);
            g.addLayer("bn" + i, new BatchNormalization.Builder().eps(1e-5).build(), "conv" + i);
            g.addLayer("relu" + i, new ActivationLayer(Activation.RELU), "bn" + i);
            prev = "relu" + i;
        }
        return head(g, prev, classes).setInputTypes(InputType.convolutional(height, width,
                blocks.get(0).inChannels())).build();
    }

    /**
     * The CSLA model with constant scales: per block {@code s3*conv3x3(x) + s1*conv1x1(x) [+ sid*x]} (sid trainable,
     * with L2 {@code wd}) -> one BN -> relu. Conv kernels and the linear weight get L2 {@code wd}.
     */
    public static ComputationGraphConfiguration csla(List<BlockScales> blocks, int classes, int height, int width,
                                                     DataType type, long seed, IUpdater updater, double wd) {
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder()
                .seed(seed).dataType(type).updater(updater).weightInit(WeightInit.RELU)
                .graphBuilder().addInputs("in");
        String prev = "in";
        for (int i = 0; i < blocks.size(); i++) {
            BlockScales b = blocks.get(i);
            int s = b.stride();
            g.addLayer("conv3_" + i, new ConvolutionLayer.Builder(3, 3).stride(s, s).padding(1, 1)
                    .convolutionMode(ConvolutionMode.Truncate).hasBias(false).nOut(b.outChannels())
                    .regularization(List.of(new L2Regularization(wd))).activation(Activation.IDENTITY).build(), prev);
            g.addLayer("s3_" + i, new ChannelScaleLayer.Builder().initialScales(b.scaleConv()).trainable(false)
                    .build(), "conv3_" + i);
            g.addLayer("conv1_" + i, new ConvolutionLayer.Builder(1, 1).stride(s, s).padding(0, 0)
                    .convolutionMode(ConvolutionMode.Truncate).hasBias(false).nOut(b.outChannels())
                    .regularization(List.of(new L2Regularization(wd))).activation(Activation.IDENTITY).build(), prev);
            g.addLayer("s1_" + i, new ChannelScaleLayer.Builder().initialScales(b.scale1x1()).trainable(false)
                    .build(), "conv1_" + i);
            if (b.hasIdentity()) {
                g.addLayer("sid_" + i, new ChannelScaleLayer.Builder().initialScales(b.scaleIdentity())
                        .regularization(List.of(new L2Regularization(wd))).build(), prev);
                g.addVertex("sum_" + i, new ElementWiseVertex(ElementWiseVertex.Op.Add), "s3_" + i, "s1_" + i, "sid_" + i);
            } else {
                g.addVertex("sum_" + i, new ElementWiseVertex(ElementWiseVertex.Op.Add), "s3_" + i, "s1_" + i);
            }
            g.addLayer("bn" + i, new BatchNormalization.Builder().eps(1e-5).build(), "sum_" + i);
            g.addLayer("relu" + i, new ActivationLayer(Activation.RELU), "bn" + i);
            prev = "relu" + i;
        }
        g.addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), prev);
        g.addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(classes)
                .activation(Activation.SOFTMAX).regularization(List.of(new L2Regularization(wd))).build(), "gap");
        return g.setOutputs("out").setInputTypes(InputType.convolutional(height, width, blocks.get(0).inChannels()))
                .build();
    }

    private static ComputationGraphConfiguration.GraphBuilder head(ComputationGraphConfiguration.GraphBuilder g,
                                                                  String prev, int classes) {
        g.addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), prev);
        g.addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(classes)
                .activation(Activation.SOFTMAX).build(), "gap");
        return g.setOutputs("out");
    }
}
