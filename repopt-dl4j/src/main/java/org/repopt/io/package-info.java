/**
 * File handling every room shares: {@link org.repopt.io.AtomicFiles} writes a file so that a crash never leaves it
 * half-written (scales files, checkpoints, logs), and {@link org.repopt.io.StrictJson} reads every JSON file back
 * strictly (no duplicate, unknown or missing key, nothing after the value), failing with a
 * {@link org.repopt.io.JsonFormatException} that names the file, the place and expected vs actual.
 */
package org.repopt.io;
