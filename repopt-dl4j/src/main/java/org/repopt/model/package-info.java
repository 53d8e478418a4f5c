/**
 * The model families. VGG style, built from one architecture description ({@link org.repopt.model.VggSpec}, with the
 * paper's variants in {@link org.repopt.model.Variant}): {@link org.repopt.model.RepOptVgg} (the target, trained with
 * the RepOptimizer), {@link org.repopt.model.RepVgg} (the structural re-parameterization baseline, with its deploy
 * fusion into {@link org.repopt.model.FusedVgg}) and {@link org.repopt.model.CslaVgg} (the VGG of CSLA blocks:
 * the Hyper-Search model that searches the scales, and the CSLA model with constant scales). RepOpt-GhostNet, the
 * reference code's second family, built from {@link org.repopt.model.GhostNetSpec}:
 * {@link org.repopt.model.RepOptGhostNet} in target, Hyper-Search and CSLA mode. Layer names come from
 * {@link org.repopt.model.LayerNames} only.
 */
package org.repopt.model;
