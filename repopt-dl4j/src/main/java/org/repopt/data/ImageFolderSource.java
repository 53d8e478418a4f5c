package org.repopt.data;

import org.datavec.api.writable.NDArrayWritable;
import org.datavec.api.writable.Writable;
import org.datavec.image.recordreader.ImageRecordReader;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * One split of an image folder, decoded lazily: every example is read from disk and decoded when its batch is
 * built, by DataVec's {@link ImageRecordReader} (OpenCV), cropped by a {@link CropResizeTransform} and resized to
 * {@code size x size}. Training examples get a random-resized crop, then a horizontal flip with probability 1/2 if
 * enabled; evaluation examples the resize-then-centre crop. OpenCV decodes to BGR; the copy into the batch
 * reorders to RGB, the order of the normalization figures.
 */
final class ImageFolderSource implements ExampleSource {

    static final int CHANNELS = 3;

    private final Path dir;
    private final String[] files;
    private final int[] labels;
    private final ImageFormat format;
    private final int size;
    private final boolean flip;
    private final ChannelStats stats;
    /** The reader and its transform hold per-image state, so each decoding thread has its own. */
    private final ThreadLocal<Decoder> decoders;

    /**
     * @param dir        the split's folder
     * @param files      paths relative to {@code dir}, in example order
     * @param labels     the label of each file
     * @param classNames class names by label
     * @param size       side of the network input
     * @param flip       whether training examples are flipped with probability 1/2
     * @param stats      the normalization
     */
    ImageFolderSource(Path dir, String[] files, int[] labels, List<String> classNames, int size, boolean flip,
                      ChannelStats stats) {
        this.dir = dir;
        this.files = files;
        this.labels = labels;
        this.format = new ImageFormat(CHANNELS, size, size, classNames);
        this.size = size;
        this.flip = flip;
        this.stats = stats;
        this.decoders = ThreadLocal.withInitial(() -> new Decoder(size));
    }

    private static final class Decoder {
        final CropResizeTransform transform;
        final ImageRecordReader reader;

        Decoder(int size) {
            transform = new CropResizeTransform(size);
            reader = new ImageRecordReader(size, size, CHANNELS, transform);
        }
    }

    @Override
    public int size() {
        return files.length;
    }

    @Override
    public int label(int index) {
        return labels[index];
    }

    @Override
    public ImageFormat format() {
        return format;
    }

    @Override
    public boolean parallel() {
        return true;
    }

    /** @return the file of example {@code index} */
    Path file(int index) {
        return dir.resolve(files[index]);
    }

    @Override
    public void write(int index, boolean augment, long exampleSeed, float[] dst, int offset) {
        Path file = file(index);
        Random random = new Random(exampleSeed);
        Decoder decoder = decoders.get();
        decoder.transform.prepare(augment, random);
        INDArray image;
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            List<Writable> record = decoder.reader.record(file.toUri(), in);
            image = ((NDArrayWritable) record.get(0)).get();
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(file + ": cannot read or decode the image (" + e.getMessage() + ")",
                    e);
        }
        long[] shape = image.shape();
        if (image.length() != (long) CHANNELS * size * size) {
            throw new IllegalStateException(file + ": decoded to shape " + Arrays.toString(shape)
                    + ", expected [1, " + CHANNELS + ", " + size + ", " + size + "]");
        }
        // Drawn after the crop's draws, so the flip coin is the example's next number whatever the crop used.
        boolean mirror = augment && random.nextBoolean() && flip;
        float[] bgr = (image.dataType() == DataType.FLOAT ? image : image.castTo(DataType.FLOAT)).data().asFloat();
        int plane = size * size;
        for (int c = 0; c < CHANNELS; c++) {
            float[] table = stats.table(c);
            int planeIn = (CHANNELS - 1 - c) * plane;
            int planeOut = offset + c * plane;
            for (int y = 0; y < size; y++) {
                int row = planeIn + y * size;
                int out = planeOut + y * size;
                for (int x = 0; x < size; x++) {
                    int v = Math.round(bgr[row + (mirror ? size - 1 - x : x)]);
                    dst[out + x] = table[Math.max(0, Math.min(255, v))];
                }
            }
        }
    }
}
