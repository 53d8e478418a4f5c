package org.repopt.quant;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.repopt.backend.OneDnnHelpers;

import java.util.Random;

/** Tiny plain VGG graphs for the quantization tests; names are deliberately not those of the model builders. */
final class VggNets {

    private VggNets() {
    }

    /** One block's shape. */
    record BlockSpec(int out, int stride, boolean bn, boolean bias) {
    }

    /**
     * input -> [c_i(3x3 Truncate pad 1) -> (n_i) -> r_i] -> pool(AVG) -> head(softmax), initialized with a seed.
     *
     * @param useLogStd how the batch norms store their variance
     */
    static ComputationGraph build(int inChannels, int h, int w, int classes, DataType type, long seed,
                                  boolean useLogStd, BlockSpec... blocks) {
        return build(InputType.convolutional(h, w, inChannels), classes, type, seed, useLogStd, blocks);
    }

    /** As above, for any input type (a flat input gets a preprocessor on the first convolution). */
    static ComputationGraph build(InputType input, int classes, DataType type, long seed, boolean useLogStd,
                                  BlockSpec... blocks) {
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder()
                .seed(seed).dataType(type).updater(new Sgd(0.05)).weightInit(WeightInit.RELU)
                .graphBuilder().addInputs("x");
        String prev = "x";
        for (int i = 0; i < blocks.length; i++) {
            BlockSpec b = blocks[i];
            g.addLayer("c" + i, new ConvolutionLayer.Builder(3, 3).stride(b.stride(), b.stride()).padding(1, 1)
                    .convolutionMode(ConvolutionMode.Truncate).hasBias(b.bias()).nOut(b.out())
                    .activation(Activation.IDENTITY).build(), prev);
            prev = "c" + i;
            if (b.bn()) {
                g.addLayer("n" + i, new BatchNormalization.Builder().eps(1e-3).useLogStd(useLogStd).build(), prev);
                prev = "n" + i;
            }
            g.addLayer("r" + i, new ActivationLayer(Activation.RELU), prev);
            prev = "r" + i;
        }
        g.addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), prev);
        g.addLayer("head", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(classes)
                .activation(Activation.SOFTMAX).build(), "pool");
        g.setOutputs("head").setInputTypes(input);
        OneDnnHelpers.enable();
        ComputationGraph net = new ComputationGraph(g.build());
        net.init();
        return net;
    }

    /** Moves every batch norm's gamma, beta and running statistics to random values far from their init. */
    static void randomizeBatchNorms(ComputationGraph g, long seed) {
        Nd4j.getRandom().setSeed(seed);
        for (Layer l : g.getLayers()) {
            if (!(l.conf().getLayer() instanceof BatchNormalization)) {
                continue;
            }
            BatchNormalization c = (BatchNormalization) l.conf().getLayer();
            long n = c.getNOut();
            l.getParam("gamma").assign(Nd4j.rand(l.getParam("gamma").dataType(), 1, n).muli(1.5).addi(0.25));
            l.getParam("beta").assign(Nd4j.randn(l.getParam("beta").dataType(), 1, n).muli(0.5));
            l.getParam("mean").assign(Nd4j.randn(l.getParam("mean").dataType(), 1, n).muli(0.3));
            INDArray var = Nd4j.rand(l.getParam("mean").dataType(), 1, n).muli(2).addi(0.05);
            if (c.isUseLogStd()) {
                l.getParam("log10stdev").assign(Transforms.log(Transforms.sqrt(var, true), 10, true));
            } else {
                l.getParam("var").assign(var);
            }
        }
    }

    /** Random normal images with one-hot labels. */
    static DataSet randomData(int n, int c, int h, int w, int classes, DataType type, long seed) {
        Nd4j.getRandom().setSeed(seed);
        INDArray x = Nd4j.randn(type, n, c, h, w);
        INDArray y = Nd4j.zeros(type, n, classes);
        Random r = new Random(seed);
        for (int i = 0; i < n; i++) {
            y.putScalar(i, r.nextInt(classes), 1.0);
        }
        return new DataSet(x, y);
    }
}
