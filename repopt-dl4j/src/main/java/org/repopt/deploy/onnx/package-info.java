/**
 * ONNX export of the deploy model, FP32 and INT8 (QDQ), with the ONNX protobuf classes nd4j-api ships
 * ({@link org.repopt.deploy.onnx.OnnxExport}). Running the files in ONNX Runtime is the optional module
 * {@code onnx-runtime} (Maven profile {@code onnx}). See docs/METHOD.md ("Deployment").
 */
package org.repopt.deploy.onnx;
