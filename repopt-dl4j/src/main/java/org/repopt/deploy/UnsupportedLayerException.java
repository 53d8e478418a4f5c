package org.repopt.deploy;

/**
 * A layer or vertex that has no form in the deploy target (stock DL4J, or ONNX): the message names it and says why.
 */
public class UnsupportedLayerException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final String layer;

    /**
     * @param layer  the layer's or vertex's name
     * @param reason why it cannot be exported
     */
    public UnsupportedLayerException(String layer, String reason) {
        super("layer '" + layer + "': " + reason);
        this.layer = layer;
    }

    /** @return the offending layer's or vertex's name */
    public String layer() {
        return layer;
    }
}
