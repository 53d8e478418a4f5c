package org.repopt.backend;

import org.bytedeco.javacpp.Pointer;

/**
 * Native memory aligned to 64 bytes, for oneDNN: its Winograd convolution stores with {@code vmovntps}, which
 * faults on ND4J's 32-byte-aligned buffers and takes the JVM down. Grows on demand (contents are not kept), freed by
 * {@link #close()}. Not thread-safe.
 */
final class AlignedBuffer implements AutoCloseable {

    static final int ALIGNMENT = 64;

    private Pointer raw;
    private long capacity;
    private long address;

    /** @return an empty buffer; {@link #address(long)} allocates */
    AlignedBuffer() {
    }

    /**
     * @param bytes the size needed
     * @return the aligned address of at least {@code bytes} bytes (moves when the buffer grows)
     * @throws OutOfMemoryError when the allocation fails
     */
    long address(long bytes) {
        if (bytes > capacity) {
            close();
            Pointer p = Pointer.malloc(bytes + ALIGNMENT);
            if (p == null || p.isNull()) {
                throw new OutOfMemoryError("cannot allocate " + bytes + " bytes of native memory for oneDNN");
            }
            raw = p;
            capacity = bytes;
            address = (p.address() + ALIGNMENT - 1) & -ALIGNMENT;
        }
        return address;
    }

    /** @return the bytes usable now */
    long capacity() {
        return capacity;
    }

    @Override
    public void close() {
        if (raw != null) {
            Pointer.free(raw);
            raw = null;
            capacity = 0;
            address = 0;
        }
    }
}
