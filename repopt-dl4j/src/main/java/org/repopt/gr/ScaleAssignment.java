package org.repopt.gr;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.repopt.nn.ConvolutionKinds;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Which 3x3 conv layer of a graph each CSLA block's scales belong to, validated against the layer.
 *
 * <p>A block fits a conv when the conv is a plain 2D {@link ConvolutionLayer} (or a subclass that only changes how it
 * computes; not 1D, depthwise, separable or transposed) with a 3x3 kernel, dilation 1, the block's input/output channels and stride, and PyTorch's
 * {@code padding=1} ({@link ConvolutionMode#Truncate} or {@code Strict} with padding 1, or {@code Same} at
 * stride 1: DL4J's {@code Same} pads asymmetrically at stride 2, which moves the centre tap the 1x1 branch
 * folds into), and when its only consumer is a {@link BatchNormalization} layer. Any mismatch is an
 * {@link IllegalArgumentException} naming the block, the layer and expected vs actual.
 */
public final class ScaleAssignment {

    private final Map<String, BlockScales> byLayer;

    private ScaleAssignment(Map<String, BlockScales> byLayer) {
        this.byLayer = Collections.unmodifiableMap(byLayer);
    }

    /** @return the empty assignment: no conv gets a Grad Mult */
    public static ScaleAssignment none() {
        return new ScaleAssignment(new LinkedHashMap<>());
    }

    /**
     * Assigns the i-th block to the i-th 3x3 conv in forward (topological) order.
     *
     * @param conf   a graph configuration built with input types, so every layer knows its {@code nIn}
     * @param blocks every block's scales, in forward order
     * @return the validated assignment
     */
    public static ScaleAssignment byForwardOrder(ComputationGraphConfiguration conf, List<BlockScales> blocks) {
        List<String> convs = conv3x3Layers(conf);
        if (convs.size() != blocks.size()) {
            throw new IllegalArgumentException(blocks.size() + " blocks of scales, but the graph has " + convs.size()
                    + " 3x3 conv layers " + convs);
        }
        Map<String, BlockScales> map = new LinkedHashMap<>();
        for (int i = 0; i < blocks.size(); i++) {
            map.put(convs.get(i), blocks.get(i));
        }
        return validated(conf, map);
    }

    /**
     * Assigns blocks to convs by name.
     *
     * @param conf         a graph configuration built with input types
     * @param blocks       every block's scales
     * @param layerOfBlock block name to conv layer name; every block must be named, every layer exist
     * @return the validated assignment
     */
    public static ScaleAssignment byName(ComputationGraphConfiguration conf, List<BlockScales> blocks,
                                         Map<String, String> layerOfBlock) {
        Map<String, BlockScales> map = new LinkedHashMap<>();
        for (BlockScales b : blocks) {
            String layer = layerOfBlock.get(b.block());
            if (layer == null) {
                throw new IllegalArgumentException("block " + b.block() + ": no layer name given for it; named blocks: "
                        + layerOfBlock.keySet());
            }
            if (map.put(layer, b) != null) {
                throw new IllegalArgumentException("layer '" + layer + "' is given two blocks");
            }
        }
        for (String block : layerOfBlock.keySet()) {
            if (blocks.stream().noneMatch(b -> b.block().equals(block))) {
                throw new IllegalArgumentException("layer name given for block " + block
                        + ", but the scales have no such block");
            }
        }
        return validated(conf, map);
    }

    /**
     * Assigns every block to the conv layer of the same name.
     *
     * @param conf   a graph configuration built with input types
     * @param blocks every block's scales, named like the graph's conv layers
     * @return the validated assignment
     */
    public static ScaleAssignment byBlockName(ComputationGraphConfiguration conf, List<BlockScales> blocks) {
        Map<String, String> identity = new LinkedHashMap<>();
        blocks.forEach(b -> identity.put(b.block(), b.block()));
        return byName(conf, blocks, identity);
    }

    /** @return conv layer name to that conv's block scales, in the order blocks were assigned */
    public Map<String, BlockScales> byLayer() {
        return byLayer;
    }

    /**
     * @param layerName a layer name
     * @return the scales assigned to it, or {@code null}
     */
    public BlockScales scalesOf(String layerName) {
        return byLayer.get(layerName);
    }

    /**
     * Lists a graph's 3x3 plain conv layers in forward order: Kahn's topological sort, ties broken by the order
     * in which vertices were added, so a chain reads front to back.
     *
     * @param conf a graph configuration
     * @return layer names
     */
    public static List<String> conv3x3Layers(ComputationGraphConfiguration conf) {
        List<String> out = new ArrayList<>();
        for (String name : forwardOrder(conf)) {
            Layer layer = layerOf(conf, name);
            if (ConvolutionKinds.isPlain2D(layer) && Arrays.equals(((ConvolutionLayer) layer).getKernelSize(), new int[]{3, 3})) {
                out.add(name);
            }
        }
        return out;
    }

    /**
     * @param conf a graph configuration
     * @return every vertex name (network inputs excluded) in forward order ({@link GrSites#forwardOrder})
     */
    public static List<String> forwardOrder(ComputationGraphConfiguration conf) {
        return GrSites.forwardOrder(conf);
    }

    private static Map<String, List<String>> consumers(ComputationGraphConfiguration conf) {
        return GrSites.consumers(conf);
    }

    private static Layer layerOf(ComputationGraphConfiguration conf, String vertex) {
        return GrSites.layerOf(conf, vertex);
    }

    private static ScaleAssignment validated(ComputationGraphConfiguration conf, Map<String, BlockScales> map) {
        Map<String, List<String>> consumers = consumers(conf);
        for (Map.Entry<String, BlockScales> e : map.entrySet()) {
            validate(conf, e.getKey(), e.getValue(), consumers.getOrDefault(e.getKey(), List.of()));
        }
        return new ScaleAssignment(map);
    }

    private static void validate(ComputationGraphConfiguration conf, String name, BlockScales b,
                                 List<String> consumers) {
        String at = "block " + b.block() + " (layer '" + name + "')";
        Layer layer = layerOf(conf, name);
        if (layer == null) {
            throw new IllegalArgumentException(at + ": the graph has no layer named '" + name + "'");
        }
        if (!ConvolutionKinds.isPlain2D(layer)) {
            throw new IllegalArgumentException(at + ": expected a plain 2D ConvolutionLayer, got "
                    + layer.getClass().getSimpleName());
        }
        ConvolutionLayer conv = (ConvolutionLayer) layer;
        if (!Arrays.equals(conv.getKernelSize(), new int[]{3, 3})) {
            throw new IllegalArgumentException(at + ": expected a 3x3 kernel, got " + Arrays.toString(conv.getKernelSize()));
        }
        if (conv.getNIn() == 0) {
            throw new IllegalArgumentException(at + ": nIn is not known; build the configuration with "
                    + "setInputTypes(...) or set nIn on the layer");
        }
        if (conv.getNIn() != b.inChannels() || conv.getNOut() != b.outChannels()) {
            throw new IllegalArgumentException(at + ": scales are for " + b.inChannels() + "->" + b.outChannels()
                    + " channels, the conv has " + conv.getNIn() + "->" + conv.getNOut());
        }
        int[] stride = conv.getStride();
        if (stride[0] != b.stride() || stride[1] != b.stride()) {
            throw new IllegalArgumentException(at + ": scales are for stride " + b.stride() + ", the conv has stride "
                    + Arrays.toString(stride));
        }
        if (!Arrays.equals(conv.getDilation(), new int[]{1, 1})) {
            throw new IllegalArgumentException(at + ": expected dilation [1, 1], got " + Arrays.toString(conv.getDilation()));
        }
        ConvolutionMode mode = conv.getConvolutionMode();
        boolean padOne = (mode == ConvolutionMode.Truncate || mode == ConvolutionMode.Strict)
                && Arrays.equals(conv.getPadding(), new int[]{1, 1});
        boolean sameAtStride1 = mode == ConvolutionMode.Same && b.stride() == 1;
        if (!padOne && !sameAtStride1) {
            throw new IllegalArgumentException(at + ": expected padding 1 on every side (ConvolutionMode.Truncate with "
                    + "padding(1, 1), or Same at stride 1), got mode " + mode + " with padding "
                    + Arrays.toString(conv.getPadding()) + " at stride " + b.stride());
        }
        if (consumers.size() != 1 || !(layerOf(conf, consumers.get(0)) instanceof BatchNormalization)) {
            throw new IllegalArgumentException(at + ": expected exactly one consumer, a BatchNormalization layer; got "
                    + consumers);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ScaleAssignment && byLayer.equals(((ScaleAssignment) o).byLayer);
    }

    @Override
    public int hashCode() {
        return Objects.hash(byLayer);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("ScaleAssignment{");
        byLayer.forEach((layer, b) -> sb.append(b.block()).append("->").append(layer).append(' '));
        return sb.append('}').toString();
    }
}
