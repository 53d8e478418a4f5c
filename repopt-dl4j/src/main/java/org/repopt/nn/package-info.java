/**
 * Layers DL4J lacks. {@link org.repopt.nn.ChannelScaleLayer} is the per-channel scale of a CSLA block, trainable
 * (the Hyper-Search model) or constant (the CSLA model with frozen scales), serializable like any DL4J layer.
 */
package org.repopt.nn;
