/**
 * File handling every room shares: {@link org.repopt.io.AtomicFiles} writes a file so that a crash never leaves it
 * half-written (scales files, checkpoints, logs).
 */
package org.repopt.io;
