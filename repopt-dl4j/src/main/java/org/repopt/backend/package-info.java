/**
 * Backend selection and the fixes that make DL4J 1.0.0-M2.1 fast on it: {@link org.repopt.backend.OneDnnHelpers}
 * switches on the oneDNN layer helpers that M2.1 ships disabled. The CPU (nd4j-native with a oneDNN classifier)
 * or CUDA (nd4j-cuda-11.6) backend itself is chosen by a Maven profile; nothing here depends on which.
 */
package org.repopt.backend;
