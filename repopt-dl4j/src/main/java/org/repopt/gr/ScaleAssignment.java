package org.repopt.gr;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.Layer;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Which GR site ({@link GrSites}) of a network each CSLA block's scales belong to, validated against the site.
 *
 * <p>A block fits a site when the site's kernel size, groups (1, or depthwise), stride and input/output channels are
 * the block's. Every refusal is one {@link IllegalArgumentException} line naming the block, the layer and expected vs
 * actual: a network without any GR site, scales whose block names are not the network's layers (listing both), a
 * layer name that is no layer or not a conv, a conv that is not a GR site (with the reason, e.g. a
 * {@code DepthwiseConvolution2D} needs {@code hasBias(false)}), and a site of another shape.
 */
public final class ScaleAssignment {

    private final Map<String, BlockScales> byLayer;
    private final Map<String, GrSite> sites;

    private ScaleAssignment(Map<String, BlockScales> byLayer, Map<String, GrSite> sites) {
        this.byLayer = Collections.unmodifiableMap(byLayer);
        this.sites = Collections.unmodifiableMap(sites);
    }

    /** @return the empty assignment: no conv gets a Grad Mult */
    public static ScaleAssignment none() {
        return new ScaleAssignment(new LinkedHashMap<>(), new LinkedHashMap<>());
    }

    /**
     * Assigns the i-th block to the i-th GR site in forward (topological) order.
     *
     * @param conf   a graph configuration built with input types, so every layer knows its {@code nIn}
     * @param blocks every block's scales, in forward order
     * @return the validated assignment
     */
    public static ScaleAssignment byForwardOrder(ComputationGraphConfiguration conf, List<BlockScales> blocks) {
        GrSites found = GrSites.find(conf).requireAny();
        List<String> sites = found.siteNames();
        if (sites.size() != blocks.size()) {
            StringBuilder others = new StringBuilder();
            found.convs().stream().filter(c -> !c.isSite()).forEach(c -> others.append("; layer '").append(c.layer())
                    .append("' is not one: ").append(c.reason()));
            throw new IllegalArgumentException(blocks.size() + " blocks of scales, but the network has " + sites.size()
                    + " GR sites " + sites + " (map the blocks by name where only some sites get scales)" + others);
        }
        Map<String, BlockScales> map = new LinkedHashMap<>();
        for (int i = 0; i < blocks.size(); i++) {
            map.put(sites.get(i), blocks.get(i));
        }
        return validated(found, conf, map);
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
        return validated(GrSites.find(conf).requireAny(), conf, map);
    }

    /**
     * Assigns every block to the conv layer of the same name: how scales made for the user's own network (a
     * Hyper-Search of it) are keyed.
     *
     * @param conf   a graph configuration built with input types
     * @param blocks every block's scales, named like the graph's conv layers
     * @return the validated assignment
     * @throws IllegalArgumentException where no block name is a layer of the graph: one line listing the scales'
     *                                  names and the graph's GR sites
     */
    public static ScaleAssignment byBlockName(ComputationGraphConfiguration conf, List<BlockScales> blocks) {
        GrSites found = GrSites.find(conf).requireAny();
        if (!blocks.isEmpty() && blocks.stream().noneMatch(b -> conf.getVertices().containsKey(b.block()))) {
            throw new IllegalArgumentException("the scales are for other layers: their blocks are named "
                    + abbreviated(blocks.stream().map(BlockScales::block).toList()) + ", the network's GR sites are "
                    + found.siteNames());
        }
        Map<String, BlockScales> map = new LinkedHashMap<>();
        blocks.forEach(b -> map.put(b.block(), b));
        return validated(found, conf, map);
    }

    /**
     * {@link #byForwardOrder(ComputationGraphConfiguration, List)} on a network configuration's chain
     * ({@link MultiLayerAsGraph}): layers are named as {@link MultiLayerAsGraph#layerName} says.
     */
    public static ScaleAssignment byForwardOrder(MultiLayerConfiguration conf, List<BlockScales> blocks) {
        return byForwardOrder(MultiLayerAsGraph.toGraph(conf), blocks);
    }

    /** {@link #byBlockName(ComputationGraphConfiguration, List)} on a network configuration's chain. */
    public static ScaleAssignment byBlockName(MultiLayerConfiguration conf, List<BlockScales> blocks) {
        return byBlockName(MultiLayerAsGraph.toGraph(conf), blocks);
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
     * @param layerName a layer name
     * @return the GR site a block was assigned to under that name, or {@code null}
     */
    public GrSite siteOf(String layerName) {
        return sites.get(layerName);
    }

    /**
     * @param conf a graph configuration
     * @return every vertex name (network inputs excluded) in forward order ({@link GrSites#forwardOrder})
     */
    public static List<String> forwardOrder(ComputationGraphConfiguration conf) {
        return GrSites.forwardOrder(conf);
    }

    private static ScaleAssignment validated(GrSites found, ComputationGraphConfiguration conf,
                                             Map<String, BlockScales> map) {
        Map<String, GrSite> sites = new LinkedHashMap<>();
        for (Map.Entry<String, BlockScales> e : map.entrySet()) {
            sites.put(e.getKey(), validate(found, conf, e.getKey(), e.getValue()));
        }
        return new ScaleAssignment(map, sites);
    }

    private static GrSite validate(GrSites found, ComputationGraphConfiguration conf, String name, BlockScales b) {
        String at = "block " + b.block() + " (layer '" + name + "')";
        GrSites.Conv conv = found.conv(name).orElse(null);
        if (conv == null) {
            Layer layer = GrSites.layerOf(conf, name);
            String what = layer != null ? "is a " + layer.getClass().getSimpleName() + ", not a conv layer"
                    : conf.getVertices().containsKey(name) ? "is a graph vertex, not a conv layer"
                    : "the network has no layer named '" + name + "'";
            throw new IllegalArgumentException(at + ": " + what + "; expected one of its GR sites "
                    + found.siteNames());
        }
        if (!conv.isSite()) {
            throw new IllegalArgumentException(at + ": the " + conv.type() + " is not a GR site: " + conv.reason());
        }
        GrSite site = conv.site();
        if (site.depthwise() != b.depthwise()) {
            throw new IllegalArgumentException(at + ": scales are for " + groupsText(b.groups()) + ", the layer is a "
                    + conv.type() + " (" + groupsText(site.groups()) + ")");
        }
        if (site.kernel() != b.kernel()) {
            throw new IllegalArgumentException(at + ": scales are for a " + b.kernel() + "x" + b.kernel()
                    + " kernel, the conv has " + site.kernel() + "x" + site.kernel());
        }
        if (site.inChannels() != b.inChannels() || site.outChannels() != b.outChannels()) {
            throw new IllegalArgumentException(at + ": scales are for " + b.inChannels() + "->" + b.outChannels()
                    + " channels, the conv has " + site.inChannels() + "->" + site.outChannels());
        }
        if (site.stride() != b.stride()) {
            throw new IllegalArgumentException(at + ": scales are for stride " + b.stride() + ", the conv has stride "
                    + site.stride());
        }
        return site;
    }

    private static String groupsText(int groups) {
        return groups == 1 ? "groups 1 (a dense conv)" : "groups " + groups + " (depthwise)";
    }

    private static String abbreviated(List<String> names) {
        return names.size() <= 8 ? names.toString()
                : new ArrayList<>(names.subList(0, 8)) + " and " + (names.size() - 8) + " more";
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
