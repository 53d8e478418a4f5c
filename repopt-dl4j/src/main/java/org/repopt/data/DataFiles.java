package org.repopt.data;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/** Reading whole data files, with errors that name the file and what was wrong. */
final class DataFiles {

    private static final int GZIP_BUFFER = 1 << 16;

    private DataFiles() {
    }

    /**
     * @param file a file
     * @return its bytes
     * @throws UncheckedIOException naming the file if it cannot be read
     */
    static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e, e);
        }
    }

    /**
     * @param file a gzip file
     * @return its decompressed bytes
     * @throws IllegalArgumentException naming the file if it is not gzip data, is corrupt or is truncated
     * @throws UncheckedIOException     naming the file if it cannot be read
     */
    static byte[] gunzip(Path file) {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file), GZIP_BUFFER)) {
            return in.readAllBytes();
        } catch (EOFException e) {
            throw new IllegalArgumentException(file + ": the gzip data ends early, the file is truncated ("
                    + e.getMessage() + ")", e);
        } catch (ZipException e) {
            throw new IllegalArgumentException(file + ": not valid gzip data, the file is corrupt or not gzipped ("
                    + e.getMessage() + ")", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e, e);
        }
    }

    /** @return the big-endian 32-bit integer at {@code offset} */
    static int bigEndianInt(byte[] data, int offset) {
        return (data[offset] & 0xff) << 24 | (data[offset + 1] & 0xff) << 16 | (data[offset + 2] & 0xff) << 8
                | data[offset + 3] & 0xff;
    }

    /**
     * @param file    the file the label comes from
     * @param what    the label's name in the message, e.g. {@code label} or {@code fine label}
     * @param value   the label
     * @param classes the number of classes
     * @param record  the index of the label's record in the file
     * @throws IllegalArgumentException naming the file, the record and the value if it is not below {@code classes}
     */
    static void checkLabel(Path file, String what, int value, int classes, int record) {
        if (value >= classes) {
            throw new IllegalArgumentException(file + ": " + what + " " + value + " at record " + record
                    + ", expected 0.." + (classes - 1));
        }
    }
}
