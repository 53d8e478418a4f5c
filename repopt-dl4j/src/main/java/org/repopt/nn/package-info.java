/**
 * Layers DL4J lacks. {@link org.repopt.nn.ChannelScaleLayer} is the per-channel scale of a CSLA block, trainable
 * (the Hyper-Search model) or constant (the CSLA model with frozen scales); {@link org.repopt.nn.FakeQuantLayer}
 * simulates 8-bit (or any uniform) quantization of activations with a constant scale, for INT8 post-training
 * quantization. Both are serializable like any DL4J layer.
 */
package org.repopt.nn;
