package org.repopt.quant;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Simulated INT8 inference of a folded {@linkplain PlainVgg plain VGG}, inside DL4J: a new graph whose weights are
 * dequantized INT8 values and whose activations pass through {@link org.repopt.nn.FakeQuantLayer}s.
 *
 * <ul>
 *   <li>Weights of every convolution ({@code [out, in, 3, 3]}, channel axis 0) and of the classifier
 *       ({@code [in, out]}, channel axis 1): symmetric INT8 ({@link Int8Tensor}), per tensor or per output
 *       channel, replaced by {@code q * scale}.</li>
 *   <li>Biases stay float. An integer kernel would hold them as int32 at scale {@code s_in * s_w}, whose rounding
 *       error ({@code <= s_in * s_w / 2}) is about {@code 2^-16} of the activation range: negligible next to the
 *       8-bit errors, so the simulation does not model it.</li>
 *   <li>Activations: one fake-quant layer per {@link QuantPoint}, inserted right after its vertex (for the network
 *       input: before the first convolution).</li>
 * </ul>
 * Between quantizers everything runs in float: the convolution of grid values (which an integer kernel
 * accumulates exactly in int32; float differs only by rounding), the ReLU, the average pooling and the softmax.
 * The input graph is never modified.
 */
public final class FakeQuantization {

    private FakeQuantization() {
    }

    /**
     * @param deploy      a plain VGG without batch normalization (see {@link BnFolding#fold})
     * @param points      calibrated activation quantizers (see {@link Calibrator#calibrate}); each must name the
     *                    network input, a ReLU or the pooling layer of {@code deploy}, at most once
     * @param granularity weight scales per tensor or per output channel
     * @return the fake-quantized graph
     * @throws IllegalArgumentException if the graph is not a folded plain VGG or a point names another vertex
     */
    public static ComputationGraph apply(ComputationGraph deploy, List<QuantPoint> points, Granularity granularity) {
        PlainVgg vgg = PlainVgg.of(deploy);
        if (vgg.hasBatchNorm()) {
            throw new IllegalArgumentException("fake quantization needs a folded graph, but batch norm layers remain "
                    + "after convs " + vgg.blocks().stream().filter(b -> b.batchNorm().isPresent())
                    .map(PlainVgg.Block::conv).toList() + "; fold them first with BnFolding.fold");
        }
        Set<String> allowed = new HashSet<>();
        allowed.add(vgg.input());
        vgg.blocks().forEach(b -> allowed.add(b.relu()));
        allowed.add(vgg.pooling());
        Set<String> seen = new HashSet<>();
        ComputationGraphConfiguration conf = deploy.getConfiguration().clone();
        for (QuantPoint p : points) {
            if (!allowed.contains(p.after())) {
                throw new IllegalArgumentException("quantization point after '" + p.after() + "': expected the input, "
                        + "a ReLU or the pooling layer of the plain VGG, one of " + allowed);
            }
            if (!seen.add(p.after())) {
                throw new IllegalArgumentException("quantization point after '" + p.after() + "' is given twice");
            }
            GraphEdit.insertAfter(conf, p.after(), p.layerName(), p.layer());
        }
        ComputationGraph out = GraphEdit.build(conf);
        GraphEdit.copyParams(deploy, out, Set.of());
        Map<String, Integer> weighted = new LinkedHashMap<>();
        vgg.blocks().forEach(b -> weighted.put(b.conv(), 0));
        weighted.put(vgg.output(), 1);
        for (Map.Entry<String, Integer> e : weighted.entrySet()) {
            Layer l = out.getLayer(e.getKey());
            INDArray w = l.getParam(DefaultParamInitializer.WEIGHT_KEY);
            w.assign(Int8Tensor.quantize(w, granularity, e.getValue()).dequantize(w.dataType()));
        }
        return out;
    }
}
