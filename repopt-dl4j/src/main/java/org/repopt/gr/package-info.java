/**
 * Gradient Re-parameterization (Ding et al., "Re-parameterizing Your Optimizers rather than Architectures",
 * ICLR 2023): the optimizer core.
 *
 * <p>The path of a Grad Mult: {@link org.repopt.gr.ScalesFile} (strict JSON) gives every block's
 * {@link org.repopt.gr.BlockScales}; {@link org.repopt.gr.RepOptimizer} assigns them to 3x3 convs
 * ({@link org.repopt.gr.ScaleAssignment}), attaches a {@link org.repopt.gr.GradMultHook} to each kernel (before the
 * L2 term; in the SGD form the hook carries it, and with {@link org.repopt.gr.TorchSgd} leaves its pass to the
 * updater's step, checked by a {@link org.repopt.gr.GradMultStepCheck}) and applies the Rule of Initialization
 * ({@link org.repopt.gr.Reinit}); DL4J's own {@code fit} then multiplies each gradient by its
 * {@link org.repopt.gr.GradMult}. {@link org.repopt.gr.TorchSgd} and
 * {@link org.repopt.gr.TorchAdam} are the reference code's update rules as DL4J updaters.
 */
package org.repopt.gr;
