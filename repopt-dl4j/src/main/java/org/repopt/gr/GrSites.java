package org.repopt.gr;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayer;
import org.deeplearning4j.nn.conf.layers.wrapper.BaseWrapperLayer;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.repopt.nn.ConvBnReluLayer;
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
import java.util.Optional;

/**
 * Which conv layers of a DL4J network Gradient Re-parameterization can train, found from the configuration alone:
 * every conv layer in forward order, each either a {@link GrSite} or the reason it is not one.
 *
 * <pre>{@code
 * GrSites sites = GrSites.find(conf);            // a ComputationGraphConfiguration or a MultiLayerConfiguration
 * System.out.println(sites.toText());            // every conv: "re-parameterized (...)" or "not a GR site: why"
 * for (GrSite s : sites.sites()) { ... }         // layer name, kernel, stride, channels, depthwise, its BN
 * }</pre>
 *
 * <p>A conv layer is a GR site when all of these hold (docs/METHOD.md, "Where Gradient Re-parameterization applies"):
 * <ul>
 *   <li>it is DL4J's {@code ConvolutionLayer} (or a subclass that only changes how it computes; groups 1), a
 *       {@code DepthwiseConvolution2D} with depth multiplier 1 and {@code hasBias(false)} (groups = channels; with a
 *       bias DL4J maps its updaters onto the wrong parameters), or the fused {@link ConvBnReluLayer};</li>
 *   <li>a square odd kernel {@code k >= 3}, the same stride 1 or 2 along both axes, dilation 1;</li>
 *   <li>"same"-size padding, as PyTorch's {@code padding=k/2}: {@code ConvolutionMode.Truncate} or {@code Strict}
 *       with padding {@code k/2}, or {@code Same} at stride 1 ({@code Same} pads asymmetrically at stride 2, which
 *       moves the centre tap the 1x1 and identity branches fold into);</li>
 *   <li>a linear output ({@code Activation.IDENTITY}) and no weight noise, so the branches can sum before the BN;</li>
 *   <li>its only consumer is a {@code BatchNormalization} layer without an input preprocessor (a fused layer holds
 *       its own);</li>
 *   <li>{@code nIn} is known (the configuration was built with input types, or {@code nIn} set on the layer).</li>
 * </ul>
 * Instances are immutable.
 */
public final class GrSites {

    /** One conv layer of the network: a GR site, or the reason it is not one. */
    public record Conv(String layer, String type, GrSite site, String reason) {
        /** @return whether this conv is a GR site */
        public boolean isSite() {
            return site != null;
        }

        /** @return its line in {@link GrSites#toText()} */
        public String describe() {
            return isSite() ? site.describe() + ": re-parameterized"
                    : layer + ": " + type + ", not a GR site: " + reason;
        }
    }

    private final List<Conv> convs;
    private final Map<String, GrSite> sites;

    private GrSites(List<Conv> convs) {
        this.convs = List.copyOf(convs);
        Map<String, GrSite> m = new LinkedHashMap<>();
        convs.stream().filter(Conv::isSite).forEach(c -> m.put(c.layer(), c.site()));
        this.sites = Collections.unmodifiableMap(m);
    }

    /**
     * @param conf a graph configuration, built with input types (so every layer knows its {@code nIn})
     * @return every conv layer in forward order, site or not
     */
    public static GrSites find(ComputationGraphConfiguration conf) {
        Map<String, List<String>> consumers = consumers(conf);
        List<Conv> out = new ArrayList<>();
        for (String name : forwardOrder(conf)) {
            Layer layer = layerOf(conf, name);
            if (layer instanceof ConvolutionLayer) {
                out.add(examine(conf, name, (ConvolutionLayer) layer, consumers.getOrDefault(name, List.of())));
            } else if (wrapped(layer) instanceof ConvolutionLayer) {
                // TransferLearning's frozen layers: listed, so a report names every conv of the network
                out.add(new Conv(name, layer.getClass().getSimpleName(), null, "frozen (" + layer.getClass()
                        .getSimpleName() + " around a " + wrapped(layer).getClass().getSimpleName()
                        + "): its kernel does not train"));
            }
        }
        return new GrSites(out);
    }

    /**
     * @param conf a network configuration; layers are named as {@link MultiLayerAsGraph#layerName} says (the
     *             layer's own name, else DL4J's default {@code layer<i>})
     * @return every conv layer in order, site or not
     */
    public static GrSites find(MultiLayerConfiguration conf) {
        return find(MultiLayerAsGraph.toGraph(conf));
    }

    /** @return every conv layer in forward order, each a site or with its reason */
    public List<Conv> convs() {
        return convs;
    }

    /** @return the GR sites in forward order */
    public List<GrSite> sites() {
        return List.copyOf(sites.values());
    }

    /** @return the GR sites' layer names in forward order */
    public List<String> siteNames() {
        return List.copyOf(sites.keySet());
    }

    /**
     * @param layerName a layer name
     * @return the site of that name, if it is one
     */
    public Optional<GrSite> site(String layerName) {
        return Optional.ofNullable(sites.get(layerName));
    }

    /**
     * @param layerName a layer name
     * @return the conv of that name (site or not), if the network has a conv layer of that name
     */
    public Optional<Conv> conv(String layerName) {
        return convs.stream().filter(c -> c.layer().equals(layerName)).findFirst();
    }

    /** @return whether the network has no GR site at all */
    public boolean isEmpty() {
        return sites.isEmpty();
    }

    /**
     * @return this report, after checking it has a site
     * @throws IllegalArgumentException one line: the network has no GR site, with each conv's reason
     */
    public GrSites requireAny() {
        if (isEmpty()) {
            throw new IllegalArgumentException("the network has no GR site (a conv feeding a BatchNormalization with "
                    + "an odd k x k kernel, stride 1 or 2, \"same\"-size padding, identity activation): "
                    + (convs.isEmpty() ? "it has no conv layer" : String.join("; ",
                    convs.stream().map(Conv::describe).toList())));
        }
        return this;
    }

    /**
     * @return the report: a header line, then one line per conv layer in forward order, {@code re-parameterized}
     * with its kernel, stride, channels, BN and possible branches, or {@code not a GR site: <reason>}
     */
    public String toText() {
        StringBuilder sb = new StringBuilder("GR sites: ").append(sites.size()).append(" of ").append(convs.size())
                .append(" conv layers\n");
        convs.forEach(c -> sb.append("  ").append(c.describe()).append('\n'));
        return sb.toString();
    }

    @Override
    public String toString() {
        return toText();
    }

    /** @return the layer a wrapper (a frozen layer) holds, or {@code null} */
    private static Layer wrapped(Layer layer) {
        if (layer instanceof FrozenLayer) {
            return ((FrozenLayer) layer).getLayer();
        }
        return layer instanceof BaseWrapperLayer ? ((BaseWrapperLayer) layer).getUnderlying() : null;
    }

    private static Conv examine(ComputationGraphConfiguration conf, String name, ConvolutionLayer conv,
                                List<String> consumers) {
        String type = conv.getClass().getSimpleName();
        boolean fused = conv instanceof ConvBnReluLayer;
        boolean depthwise = conv instanceof DepthwiseConvolution2D;
        String why = whyNot(conf, conv, fused, depthwise, consumers);
        if (why != null) {
            return new Conv(name, type, null, why);
        }
        int k = conv.getKernelSize()[0];
        int in = (int) conv.getNIn();
        GrSite.Kind kind = fused ? GrSite.Kind.FUSED_CONV_BN_RELU
                : depthwise ? GrSite.Kind.DEPTHWISE : GrSite.Kind.CONVOLUTION;
        GrSite site = new GrSite(name, kind, fused ? name : consumers.get(0), k, conv.getStride()[0], in,
                (int) conv.getNOut(), depthwise ? in : 1);
        return new Conv(name, type, site, null);
    }

    private static String whyNot(ComputationGraphConfiguration conf, ConvolutionLayer conv, boolean fused,
                                 boolean depthwise, List<String> consumers) {
        if (!fused && !depthwise && !ConvolutionKinds.isPlain2D(conv)) {
            return "a " + conv.getClass().getSimpleName() + " is not re-parameterizable (supported: ConvolutionLayer, "
                    + "DepthwiseConvolution2D, ConvBnReluLayer)";
        }
        if (depthwise) {
            DepthwiseConvolution2D dw = (DepthwiseConvolution2D) conv;
            if (dw.getDepthMultiplier() != 1) {
                return "depth multiplier " + dw.getDepthMultiplier() + ", expected 1 (groups = channels)";
            }
            if (dw.hasBias()) {
                return "DepthwiseConvolution2D with a bias (DL4J maps its updaters onto the wrong parameters); "
                        + "build it with hasBias(false)";
            }
        }
        int[] k = conv.getKernelSize();
        if (k[0] != k[1] || k[0] < 3 || k[0] % 2 == 0) {
            return "kernel " + Arrays.toString(k) + ", expected a square odd kernel of at least 3x3";
        }
        int[] s = conv.getStride();
        if (s[0] != s[1] || (s[0] != 1 && s[0] != 2)) {
            return "stride " + Arrays.toString(s) + ", expected [1, 1] or [2, 2]";
        }
        if (!Arrays.equals(conv.getDilation(), new int[]{1, 1})) {
            return "dilation " + Arrays.toString(conv.getDilation()) + ", expected [1, 1]";
        }
        String padding = whyNotSameSize(conv, k[0], s[0]);
        if (padding != null) {
            return padding;
        }
        if (!fused && !(conv.getActivationFn() instanceof ActivationIdentity)) {
            return "activation " + conv.getActivationFn() + ", expected identity (the branches sum before the BN)";
        }
        if (conv.getWeightNoise() != null) {
            return "weight noise " + conv.getWeightNoise() + " on the kernel";
        }
        if (conv.getNIn() <= 0) {
            return "nIn is not known; build the configuration with setInputTypes(...) or set nIn on the layer";
        }
        if (fused) {
            return null;
        }
        if (consumers.size() != 1) {
            return "feeds " + consumers.size() + " layers " + consumers + ", expected exactly one BatchNormalization";
        }
        Layer next = layerOf(conf, consumers.get(0));
        if (!(next instanceof BatchNormalization)) {
            return "feeds '" + consumers.get(0) + "' (" + (next == null ? "a graph vertex"
                    : next.getClass().getSimpleName()) + "), expected a BatchNormalization";
        }
        if (((LayerVertex) conf.getVertices().get(consumers.get(0))).getPreProcessor() != null) {
            return "its BatchNormalization '" + consumers.get(0) + "' has an input preprocessor";
        }
        return null;
    }

    /** PyTorch's {@code padding=k/2}: Truncate or Strict with padding k/2, or Same at stride 1. */
    private static String whyNotSameSize(ConvolutionLayer conv, int k, int stride) {
        ConvolutionMode mode = conv.getConvolutionMode();
        int[] p = conv.getPadding();
        if ((mode == ConvolutionMode.Truncate || mode == ConvolutionMode.Strict)
                && Arrays.equals(p, new int[]{k / 2, k / 2})) {
            return null;
        }
        if (mode == ConvolutionMode.Same && stride == 1) {
            return null;
        }
        return "padding " + Arrays.toString(p) + " in mode " + mode + " at stride " + stride + ", expected \"same\"-size "
                + "padding: ConvolutionMode.Truncate with padding(" + k / 2 + ", " + k / 2 + "), or Same at stride 1 "
                + "(Same pads asymmetrically at stride 2)";
    }

    /**
     * Every vertex of a graph (network inputs excluded) in forward order: Kahn's topological sort, ties broken by the
     * order in which vertices were added, so a chain reads front to back.
     *
     * @param conf a graph configuration
     * @return vertex names
     */
    public static List<String> forwardOrder(ComputationGraphConfiguration conf) {
        Map<String, List<String>> inputs = conf.getVertexInputs();
        Map<String, Integer> pending = new HashMap<>();
        Map<String, List<String>> consumers = consumers(conf);
        for (String v : conf.getVertices().keySet()) {
            pending.put(v, inputs.getOrDefault(v, List.of()).size());
        }
        Deque<String> ready = new ArrayDeque<>(conf.getNetworkInputs());
        List<String> order = new ArrayList<>();
        while (!ready.isEmpty()) {
            String v = ready.poll();
            if (conf.getVertices().containsKey(v)) {
                order.add(v);
            }
            for (String next : consumers.getOrDefault(v, List.of())) {
                if (pending.merge(next, -1, Integer::sum) == 0) {
                    ready.add(next);
                }
            }
        }
        return order;
    }

    /** @return vertex (or network input) name to the vertices that read it, in vertex order */
    static Map<String, List<String>> consumers(ComputationGraphConfiguration conf) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (Map.Entry<String, List<String>> e : conf.getVertexInputs().entrySet()) {
            for (String in : e.getValue()) {
                out.computeIfAbsent(in, k -> new ArrayList<>()).add(e.getKey());
            }
        }
        return out;
    }

    /** @return the layer configuration of a layer vertex, {@code null} for other vertices or unknown names */
    static Layer layerOf(ComputationGraphConfiguration conf, String vertex) {
        GraphVertex v = conf.getVertices().get(vertex);
        return v instanceof LayerVertex ? ((LayerVertex) v).getLayerConf().getLayer() : null;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GrSites && convs.equals(((GrSites) o).convs);
    }

    @Override
    public int hashCode() {
        return convs.hashCode();
    }
}
