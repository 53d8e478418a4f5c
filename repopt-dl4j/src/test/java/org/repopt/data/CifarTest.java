package org.repopt.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;

import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.repopt.data.DataFixtures.cifar10Labels;
import static org.repopt.data.DataFixtures.cifarRecords;
import static org.repopt.data.DataFixtures.write;

class CifarTest {

    private static final int RECORD10 = 1 + 3072;

    @TempDir
    Path dir;

    /** Writes CIFAR-10 with 2 records per training batch and 3 test records. */
    private static void cifar10(Path folder) {
        for (int b = 1; b <= 5; b++) {
            write(folder.resolve("data_batch_" + b + ".bin"), cifarRecords(cifar10Labels(2), b));
        }
        write(folder.resolve("test_batch.bin"), cifarRecords(cifar10Labels(3), 9));
    }

    private static void cifar100(Path folder, int[][] train, int[][] test) {
        write(folder.resolve("train.bin"), cifarRecords(train, 1));
        write(folder.resolve("test.bin"), cifarRecords(test, 2));
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + e.getMessage() + "' lacks '" + part + "'");
        }
    }

    @Test
    void cifar10ReadsRecordsInBatchOrderAsNchwRgb() {
        cifar10(dir);
        ImageDataset data = Datasets.cifar10(dir);
        assertEquals("cifar10", data.name());
        assertEquals(3, data.channels());
        assertEquals(32, data.height());
        assertEquals(10, data.numClasses());
        assertEquals("truck", data.classNames().get(9));
        assertEquals(10, data.trainExamples());
        assertEquals(3, data.testExamples());
        DataSet test = data.test(3).next();
        byte[] records = cifarRecords(cifar10Labels(3), 9);
        double[] mean = {0.4914, 0.4822, 0.4465};
        double[] std = {0.2470, 0.2435, 0.2616};
        for (int r = 0; r < 3; r++) {
            assertEquals(r, test.getLabels().getRow(r).argMax().getInt(0));
            for (int c = 0; c < 3; c++) {
                // Record layout: label, then 1024 red, 1024 green, 1024 blue bytes, row-major.
                int at = r * RECORD10 + 1 + c * 1024 + 5 * 32 + 7;
                double expected = ((records[at] & 0xff) / 255.0 - mean[c]) / std[c];
                assertEquals(expected, test.getFeatures().getDouble(r, c, 5, 7), 1e-6);
            }
        }
    }

    @Test
    void cifar10AcceptsTheParentOfTheUsualFolder() {
        cifar10(dir.resolve(Cifar.CIFAR10_FOLDER));
        assertEquals(10, Datasets.cifar10(dir).trainExamples());
    }

    @Test
    void cifar10MissingFilesAreListed() {
        cifar10(dir);
        assertTrue(dir.resolve("data_batch_3.bin").toFile().delete());
        assertTrue(dir.resolve("test_batch.bin").toFile().delete());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Datasets.cifar10(dir));
        assertMentions(e, "CIFAR-10", dir + " lacks data_batch_3.bin, test_batch.bin");
    }

    @Test
    void cifar10EmptyFolderNamesTheUsualSubfolder() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Datasets.cifar10(dir));
        assertMentions(e, "data_batch_1.bin", "cifar-10-batches-bin");
    }

    @Test
    void cifar10FileSizeNotAWholeNumberOfRecords() {
        cifar10(dir);
        byte[] partial = Arrays.copyOf(cifarRecords(cifar10Labels(2), 4), 2 * RECORD10 - 100);
        write(dir.resolve("data_batch_4.bin"), partial);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Datasets.cifar10(dir));
        assertMentions(e, "data_batch_4.bin", (2 * RECORD10 - 100) + " bytes is not a whole positive number of 3073-byte records",
                "1 records and " + (RECORD10 - 100) + " bytes left over");
    }

    @Test
    void cifar10EmptyFile() {
        cifar10(dir);
        write(dir.resolve("test_batch.bin"), new byte[0]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Datasets.cifar10(dir));
        assertMentions(e, "test_batch.bin", "0 bytes is not a whole positive number");
    }

    @Test
    void cifar10LabelOutOfRange() {
        cifar10(dir);
        write(dir.resolve("data_batch_2.bin"), cifarRecords(new int[][]{{3}, {10}}, 2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Datasets.cifar10(dir));
        assertMentions(e, "data_batch_2.bin", "label 10 at record 1, expected 0..9");
    }

    @Test
    void cifar100UsesFineLabels() {
        cifar100(dir, new int[][]{{19, 99}, {0, 5}}, new int[][]{{4, 42}});
        ImageDataset data = Datasets.cifar100(dir);
        assertEquals("cifar100", data.name());
        assertEquals(100, data.numClasses());
        assertEquals("worm", data.classNames().get(99));
        assertEquals(2, data.trainExamples());
        DataSet test = data.test(1).next();
        assertArrayEquals(new long[]{1, 3, 32, 32}, test.getFeatures().shape());
        assertArrayEquals(new long[]{1, 100}, test.getLabels().shape());
        assertEquals(42, test.getLabels().argMax(1).getInt(0));
        byte[] records = cifarRecords(new int[][]{{4, 42}}, 2);
        double expected = ((records[2 + 2048] & 0xff) / 255.0 - 0.4409) / 0.2762;
        assertEquals(expected, test.getFeatures().getDouble(0, 2, 0, 0), 1e-6);
    }

    @Test
    void cifar100AcceptsTheParentOfTheUsualFolder() {
        cifar100(dir.resolve(Cifar.CIFAR100_FOLDER), new int[][]{{1, 1}}, new int[][]{{1, 1}});
        assertEquals(1, Datasets.cifar100(dir).trainExamples());
    }

    @Test
    void cifar100FileSizeNotAWholeNumberOfRecords() {
        cifar100(dir, new int[][]{{1, 1}}, new int[][]{{1, 1}});
        write(dir.resolve("test.bin"), new byte[3074 + 3073]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Datasets.cifar100(dir));
        assertMentions(e, "test.bin", "6147 bytes is not a whole positive number of 3074-byte records",
                "1 records and 3073 bytes left over");
    }

    @Test
    void cifar100FineLabelOutOfRange() {
        cifar100(dir, new int[][]{{1, 1}, {2, 100}}, new int[][]{{1, 1}});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Datasets.cifar100(dir));
        assertMentions(e, "train.bin", "fine label 100 at record 1, expected 0..99");
    }

    @Test
    void cifar100CoarseLabelOutOfRange() {
        cifar100(dir, new int[][]{{1, 1}}, new int[][]{{20, 1}});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Datasets.cifar100(dir));
        assertMentions(e, "test.bin", "coarse label 20 at record 0, expected 0..19");
    }

    @Test
    void cifar100ClassNamesAreTheHundredFineLabels() {
        assertEquals(100, Cifar.CIFAR100_CLASSES.size());
        assertEquals(100, Cifar.CIFAR100_CLASSES.stream().distinct().count());
        assertEquals(Cifar.CIFAR100_CLASSES.stream().sorted().toList(), Cifar.CIFAR100_CLASSES);
    }
}
