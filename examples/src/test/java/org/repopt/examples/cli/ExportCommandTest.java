package org.repopt.examples.cli;

import onnx.Onnx;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.repopt.deploy.onnx.OnnxExport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ./repopt export}: the zip and the ONNX file of a run, and clear refusals that write nothing. */
class ExportCommandTest {

    @TempDir
    static Path data;
    @TempDir
    static Path runs;
    private static Path vgg;

    @BeforeAll
    static void aTrainedRun() throws IOException {
        RunCommandsTest.writeIdx(data.resolve("train-images-idx3-ubyte.gz"), 0x803, new int[]{32, 28, 28}, 1);
        RunCommandsTest.writeIdx(data.resolve("train-labels-idx1-ubyte.gz"), 0x801, new int[]{32}, 0);
        RunCommandsTest.writeIdx(data.resolve("t10k-images-idx3-ubyte.gz"), 0x803, new int[]{16, 28, 28}, 2);
        RunCommandsTest.writeIdx(data.resolve("t10k-labels-idx1-ubyte.gz"), 0x801, new int[]{16}, 0);
        vgg = runs.resolve("vgg");
        assertEquals(0, RunCommandsTest.run("train", "--model", "repvgg", "--data-dir", data.toString(), "--batch",
                "16", "--epochs", "1", "--no-progress", "--out", vgg.toString()).exit());
    }

    @Test
    void writesTheZipAndAValidOnnxFileDocumentingItsInput(@TempDir Path tmp) throws Exception {
        Path onnx = tmp.resolve("m.onnx");
        Path zip = tmp.resolve("m.zip");
        RunCommandsTest.Run r = RunCommandsTest.run("export", "--run", vgg.toString(), "--out", zip.toString(),
                "--onnx", onnx.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(Files.size(zip) > 0);
        Map<String, String> meta = OnnxExport.metadata(Onnx.ModelProto.parseFrom(Files.readAllBytes(onnx)));
        assertEquals("batch,1,28,28", meta.get("input_shape"));
        assertTrue(meta.get("input_normalization").contains("mean [0.286], std [0.353]"), meta.toString());
        assertTrue(meta.get("model").startsWith("RepVGG-"), meta.toString());
        // ONNX's checker passes on every family's file: OnnxExportTest in repopt-dl4j
        assertEquals(OnnxExport.OPSET, Onnx.ModelProto.parseFrom(Files.readAllBytes(onnx)).getOpsetImport(0)
                .getVersion());
    }

    @Test
    void anOnnxPathInAMissingFolderWritesNothing(@TempDir Path tmp) {
        Path zip = tmp.resolve("m.zip");
        Path onnx = tmp.resolve("no-such-folder").resolve("m.onnx");
        RunCommandsTest.Run r = RunCommandsTest.run("export", "--run", vgg.toString(), "--out", zip.toString(),
                "--onnx", onnx.toString());
        assertEquals(2, r.exit());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("folder " + onnx.getParent() + " does not exist"), r.err());
        assertFalse(Files.exists(zip), "nothing is written, not even the zip");
    }

    @Test
    void aRunWithoutCheckpointIsRefused(@TempDir Path tmp) throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("fresh"));
        Files.copy(vgg.resolve(RunInfo.FILE), empty.resolve(RunInfo.FILE));
        RunCommandsTest.Run r = RunCommandsTest.run("export", "--run", empty.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains(empty + " holds no checkpoint yet"), r.err());
        assertFalse(Files.exists(empty.resolve("deploy.zip")));
    }

    @Test
    void anUnknownModelFamilyIsRefused(@TempDir Path tmp) throws IOException {
        Path other = Files.createDirectories(tmp.resolve("other"));
        Files.writeString(other.resolve(RunInfo.FILE), Files.readString(vgg.resolve(RunInfo.FILE))
                .replace("\"repvgg\"", "\"alexnet\""));
        RunCommandsTest.Run r = RunCommandsTest.run("export", "--run", other.toString(), "--onnx",
                tmp.resolve("m.onnx").toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("unknown model 'alexnet'"), r.err());
        assertFalse(Files.exists(tmp.resolve("m.onnx")));
        assertFalse(Files.exists(other.resolve("deploy.zip")));
    }

    @Test
    void quantizeOnnxWithoutOnnxRuntimeSaysHowToBuildItBeforeAnyWork(@TempDir Path tmp) {
        // this build has no onnx profile: the service is missing
        RunCommandsTest.Run r = RunCommandsTest.run("quantize", "--model", vgg.toString(), "--data-dir",
                data.toString(), "--onnx", "--onnx-dir", tmp.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("quantize --onnx needs ONNX Runtime for Java"), r.err());
        assertTrue(r.err().contains("-Ponnx"), r.err());
        assertFalse(Files.exists(tmp.resolve("model-int8.onnx")));
    }
}
