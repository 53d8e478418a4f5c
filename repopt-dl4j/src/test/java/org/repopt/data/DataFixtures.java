package org.repopt.data;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import javax.imageio.ImageIO;

/** Small data files in the real formats, written for the loaders' tests. */
final class DataFixtures {

    private DataFixtures() {
    }

    /** @return an IDX file: big-endian magic, dimensions, then the bytes */
    static byte[] idx(int magic, int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.putInt(magic);
        for (int d : dims) {
            b.putInt(d);
        }
        b.put(data);
        return b.array();
    }

    /** @return {@code raw} gzipped */
    static byte[] gzip(byte[] raw) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(out)) {
            gz.write(raw);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    static void write(Path file, byte[] bytes) {
        try {
            Files.createDirectories(file.getParent());
            Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** @return {@code n} deterministic pseudo-random bytes */
    static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** @return {@code n} labels {@code i % classes} */
    static byte[] labels(int n, int classes) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i % classes);
        }
        return b;
    }

    /** Writes the four Fashion-MNIST files with {@code train} and {@code test} random 28x28 images. */
    static void fashionMnist(Path dir, int train, int test) {
        write(dir.resolve(FashionMnist.TRAIN_IMAGES),
                gzip(idx(FashionMnist.IMAGE_MAGIC, new int[]{train, 28, 28}, bytes(train * 784, 1))));
        write(dir.resolve(FashionMnist.TRAIN_LABELS),
                gzip(idx(FashionMnist.LABEL_MAGIC, new int[]{train}, labels(train, 10))));
        write(dir.resolve(FashionMnist.TEST_IMAGES),
                gzip(idx(FashionMnist.IMAGE_MAGIC, new int[]{test, 28, 28}, bytes(test * 784, 2))));
        write(dir.resolve(FashionMnist.TEST_LABELS),
                gzip(idx(FashionMnist.LABEL_MAGIC, new int[]{test}, labels(test, 10))));
    }

    /**
     * @param labels   per record: one label (CIFAR-10) or coarse then fine (CIFAR-100)
     * @param pixelSeed seed of the pixel bytes
     * @return CIFAR records
     */
    static byte[] cifarRecords(int[][] labels, long pixelSeed) {
        int labelBytes = labels.length == 0 ? 1 : labels[0].length;
        int record = labelBytes + Cifar.PIXELS;
        byte[] out = new byte[labels.length * record];
        Random random = new Random(pixelSeed);
        for (int r = 0; r < labels.length; r++) {
            for (int k = 0; k < labelBytes; k++) {
                out[r * record + k] = (byte) labels[r][k];
            }
            byte[] px = new byte[Cifar.PIXELS];
            random.nextBytes(px);
            System.arraycopy(px, 0, out, r * record + labelBytes, Cifar.PIXELS);
        }
        return out;
    }

    /** @return {@code n} CIFAR-10 labels {@code i % 10} */
    static int[][] cifar10Labels(int n) {
        int[][] l = new int[n][1];
        for (int i = 0; i < n; i++) {
            l[i][0] = i % 10;
        }
        return l;
    }

    /** Writes a solid-colour RGB image in the format of the file's extension. */
    static void image(Path file, int width, int height, int rgb) {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                img.setRGB(x, y, rgb);
            }
        }
        image(file, img);
    }

    static void image(Path file, BufferedImage img) {
        String name = file.getFileName().toString();
        String format = name.substring(name.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
        try {
            Files.createDirectories(file.getParent());
            if (!ImageIO.write(img, format.equals("jpeg") ? "jpg" : format, file.toFile())) {
                throw new IllegalStateException("no ImageIO writer for " + format);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
