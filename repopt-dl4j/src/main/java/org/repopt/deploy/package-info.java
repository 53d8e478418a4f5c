/**
 * Deployment of a trained network: the plain DL4J model of stock classes only ({@link org.repopt.deploy.DeployModel})
 * and its ONNX form (package {@code org.repopt.deploy.onnx}). See docs/METHOD.md ("Deployment").
 */
package org.repopt.deploy;
