/**
 * Layers, vertices and activations DL4J lacks. {@link org.repopt.nn.ChannelScaleLayer} is the per-channel scale of a
 * CSLA block, trainable (the Hyper-Search model) or constant (the CSLA model with frozen scales);
 * {@link org.repopt.nn.FakeQuantLayer} simulates 8-bit (or any uniform) quantization of activations with a constant
 * scale, for INT8 post-training quantization; {@link org.repopt.nn.ChannelMultiplyVertex} multiplies a feature map by
 * a per-channel gate and {@link org.repopt.nn.ActivationTorchHardSigmoid} is the gate's {@code relu6(x + 3) / 6}
 * (squeeze-and-excitation of RepOpt-GhostNet). All are serializable like DL4J's own.
 */
package org.repopt.nn;
