/**
 * INT8 post-training quantization of the deployable plain VGG (RepOpt-VGG, or a fused RepVGG), simulated in DL4J;
 * the paper (Ding et al., ICLR 2023) reports that RepOpt-VGG quantizes far better than RepVGG but never
 * published its recipe, so this package is that recipe, stated in {@link org.repopt.quant.Int8Ptq}.
 *
 * <p>{@link org.repopt.quant.PlainVgg} reads the block structure from the graph; {@link org.repopt.quant.BnFolding}
 * folds batch normalization into the convolutions (pure); {@link org.repopt.quant.Int8Tensor} is symmetric INT8
 * weight quantization; {@link org.repopt.quant.Calibrator} calibrates activation ranges
 * ({@link org.repopt.quant.RangeEstimator}, {@link org.repopt.quant.ActivationHistogram});
 * {@link org.repopt.quant.FakeQuantization} builds the simulated INT8 graph with
 * {@link org.repopt.nn.FakeQuantLayer}; {@link org.repopt.quant.WeightStats} summarizes the deployed kernels; and
 * {@link org.repopt.quant.Int8Ptq} runs it all and returns a {@link org.repopt.quant.PtqReport}.
 */
package org.repopt.quant;
