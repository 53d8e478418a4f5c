package org.repopt.testing;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.repopt.gr.BlockScales;
import org.repopt.model.GhostModuleSpec;
import org.repopt.model.GhostNetSpec;
import org.repopt.model.LayerNames;
import org.repopt.model.RepOptGhostNet;
import org.repopt.nn.ChannelScaleParamInitializer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** Small RepOpt-GhostNets, their scales and data for fast tests. */
public final class GhostNets {

    private GhostNets() {
    }

    /**
     * Width 0.25 (stem 4, bottlenecks up to 120 channels) at 3x36x36, 3 classes, no dropout. The last stage works on
     * 2x2 maps: at 1x1, BatchNorm over a test-sized batch sees near-zero variances and multiplies gradients by up to
     * {@code 1/sqrt(eps)} per layer.
     */
    public static GhostNetSpec tiny() {
        return GhostNetSpec.of(0.25).withInput(3, 36, 36).withClasses(3).withDropout(0);
    }

    /** @return every scale 1 */
    public static BlockScales ones(GhostModuleSpec m) {
        double[] one = new double[m.channels()];
        Arrays.fill(one, 1.0);
        return RepOptGhostNet.moduleScales(m, one, one);
    }

    /** Random but reproducible positive scales for every module of {@code spec}. */
    public static List<BlockScales> randomScales(GhostNetSpec spec, long seed) {
        Random r = new Random(seed);
        List<BlockScales> out = new ArrayList<>();
        for (GhostModuleSpec m : spec.modules()) {
            out.add(RepOptGhostNet.moduleScales(m, TinySpecs.positive(r, m.channels()), TinySpecs.positive(r, m.channels())));
        }
        return out;
    }

    /** A reproducible random batch of {@code spec}'s shape with one-hot labels. */
    public static DataSet batch(GhostNetSpec spec, int n, long seed, DataType type) {
        return TinySpecs.batch(n, spec.inputChannels(), spec.inputHeight(), spec.inputWidth(), spec.numClasses(), seed,
                type);
    }

    /**
     * The depthwise kernel a CSLA ghost module computes now, in DL4J's layout {@code [kH, kW, C, 1]}:
     * {@code scale_conv[c] * W[., ., c] + scale_identity[c]} at the centre tap (written out, independently of the
     * optimizer core's Rule of Initialization).
     */
    public static INDArray equivalentKernel(ComputationGraph csla, GhostModuleSpec m) {
        INDArray w = csla.getLayer(LayerNames.cheapConv(m.name())).getParam("W");
        INDArray s = csla.getLayer(LayerNames.scaleConv(m.name())).getParam(ChannelScaleParamInitializer.SCALE_KEY);
        INDArray f = csla.getLayer(LayerNames.scaleIdentity(m.name())).getParam(ChannelScaleParamInitializer.SCALE_KEY);
        INDArray out = w.dup('c');
        int centre = GhostModuleSpec.CHEAP_KERNEL / 2;
        for (int c = 0; c < m.channels(); c++) {
            for (int i = 0; i < w.size(0); i++) {
                for (int j = 0; j < w.size(1); j++) {
                    double v = s.getDouble(c) * w.getDouble(i, j, c, 0) + (i == centre && j == centre ? f.getDouble(c) : 0);
                    out.putScalar(new long[]{i, j, c, 0}, v);
                }
            }
        }
        return out;
    }

    /**
     * Gives a target network its CSLA twin's parameters: every layer the two share, then each module's cheap kernel,
     * the equivalent one (Rule of Initialization) or the raw one.
     */
    public static void startFrom(ComputationGraph target, ComputationGraph csla, GhostNetSpec spec, boolean equivalent) {
        for (Layer l : target.getLayers()) {
            Layer twin = csla.getLayer(l.conf().getLayer().getLayerName());
            l.paramTable().forEach((k, v) -> v.assign(twin.getParam(k)));
        }
        for (GhostModuleSpec m : spec.modules()) {
            INDArray start = equivalent ? equivalentKernel(csla, m)
                    : csla.getLayer(LayerNames.cheapConv(m.name())).getParam("W").dup();
            target.getLayer(LayerNames.cheapConv(m.name())).getParam("W").assign(start);
        }
    }
}
