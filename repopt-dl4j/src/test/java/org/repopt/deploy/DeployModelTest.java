package org.repopt.deploy;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.repopt.nn.ChannelMultiplyVertex;
import org.repopt.nn.ChannelScaleLayer;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The deploy zip of every family loads in an application that has DL4J and not repopt-dl4j on its class path (a child
 * JVM, class path without this module's classes) and computes the trained network's inference outputs.
 */
class DeployModelTest {

    @TempDir
    Path dir;

    @Test
    void everyFamilyLoadsWithoutRepoptAndComputesTheTrainedOutputs() throws Exception {
        Map<String, INDArray> expected = new LinkedHashMap<>();
        List<String> args = new ArrayList<>();
        int i = 0;
        for (Map.Entry<String, Supplier<TrainedFamilies.Trained>> e : TrainedFamilies.all().entrySet()) {
            TrainedFamilies.Trained t = e.getValue().get();
            ComputationGraph deploy = DeployModel.of(t.net(), t.input());
            String json = deploy.getConfiguration().toJson();
            assertFalse(json.contains("org.repopt"), e.getKey() + ": deploy JSON names a repopt class");
            assertFalse(json.contains("BatchNormalization") && !e.getKey().contains("Ghost"),
                    e.getKey() + ": a VGG-style deploy model keeps no batch norm");
            Path zip = dir.resolve(i + ".zip");
            DeployModel.write(deploy, zip);
            Path in = dir.resolve(i + ".in");
            writeArray(in, t.x());
            args.addAll(List.of(zip.toString(), in.toString(), dir.resolve(i + ".out").toString()));
            expected.put(e.getKey(), t.net().outputSingle(false, t.x()));
            i++;
        }
        String log = runPlainApp(args);
        assertTrue(log.contains("no repopt-dl4j classes"), log);
        i = 0;
        for (Map.Entry<String, INDArray> e : expected.entrySet()) {
            INDArray got = readArray(dir.resolve(i++ + ".out"));
            assertArrayEquals(e.getKey(), e.getValue(), got, 1e-5);
        }
    }

    @Test
    void deployOutputsEqualTheTrainedOnesInDouble() {
        // float rounding aside, the same numbers: the GhostNet in double (folds, hard sigmoid, gate upsampling)
        var spec = org.repopt.testing.GhostNets.tiny();
        var model = org.repopt.model.RepOptGhostNet.builder(spec).dataType(DataType.DOUBLE).build();
        ComputationGraph net = model.init();
        for (int s = 0; s < 2; s++) {
            net.fit(org.repopt.testing.GhostNets.batch(spec, 8, s, DataType.DOUBLE));
        }
        INDArray x = org.repopt.testing.GhostNets.batch(spec, 4, 7, DataType.DOUBLE).getFeatures();
        ComputationGraph deploy = DeployModel.of(net, model.inputType());
        assertArrayEquals("GhostNet double", net.outputSingle(false, x), deploy.outputSingle(false, x), 1e-12);
    }

    @Test
    void aLayerWithoutStockFormIsRefusedByName() {
        var spec = org.repopt.testing.GhostNets.tiny();
        var model = org.repopt.model.RepOptGhostNet.builder(spec).search().build();
        ComputationGraph net = model.init();
        UnsupportedLayerException e = assertThrows(UnsupportedLayerException.class,
                () -> DeployModel.of(net, model.inputType()));
        assertTrue(e.getMessage().contains(ChannelScaleLayer.class.getName()), e.getMessage());
        assertTrue(net.getConfiguration().getVertices().containsKey(e.layer()), e.getMessage());
    }

    @Test
    void aGateWithoutInputTypesIsRefusedByName() {
        var spec = org.repopt.testing.GhostNets.tiny();
        ComputationGraph net = org.repopt.model.RepOptGhostNet.builder(spec).build().init();
        UnsupportedLayerException e = assertThrows(UnsupportedLayerException.class, () -> DeployModel.of(net));
        assertTrue(net.getConfiguration().getVertices().get(e.layer()) instanceof ChannelMultiplyVertex,
                e.getMessage());
    }

    @Test
    void writingIntoAMissingFolderWritesNothing() {
        var t = TrainedFamilies.all().get("VGG").get();
        ComputationGraph deploy = DeployModel.of(t.net());
        Path target = dir.resolve("missing").resolve("deploy.zip");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DeployModel.write(deploy, target));
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
        assertFalse(Files.exists(target.getParent()));
    }

    static void assertArrayEquals(String what, INDArray expected, INDArray got, double relative) {
        assertTrue(Arrays.equals(expected.shape(), got.shape()), what + ": shape " + Arrays.toString(got.shape())
                + ", expected " + Arrays.toString(expected.shape()));
        double scale = Math.max(expected.amaxNumber().doubleValue(), Double.MIN_NORMAL);
        double diff = expected.castTo(DataType.DOUBLE).sub(got.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
        assertTrue(diff <= relative * scale, what + ": outputs differ by " + diff + " (largest output " + scale
                + ", allowed " + relative + " relative)");
    }

    /** Runs PlainDl4jApp.java in a child JVM whose class path is this one's minus this project's own classes. */
    private String runPlainApp(List<String> args) throws IOException, InterruptedException, URISyntaxException {
        Path source = Path.of(DeployModelTest.class.getResource("PlainDl4jApp.java").toURI());
        String cp = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(p -> !isProjectClasses(Path.of(p)))
                .collect(Collectors.joining(File.pathSeparator));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-cp", cp, source.toString()));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "the plain DL4J application did not finish");
        String log = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), log);
        return log;
    }

    /** This module's and its sibling modules' own class folders and jars (repopt-*). */
    private static boolean isProjectClasses(Path entry) {
        String s = entry.toAbsolutePath().normalize().toString();
        return s.contains("/target/classes") || s.contains("/target/test-classes")
                || entry.getFileName().toString().startsWith("repopt-");
    }

    static void writeArray(Path f, INDArray a) throws IOException {
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(f)))) {
            out.writeInt(a.rank());
            for (long s : a.shape()) {
                out.writeLong(s);
            }
            for (float v : a.castTo(DataType.FLOAT).dup('c').data().asFloat()) {
                out.writeFloat(v);
            }
        }
    }

    static INDArray readArray(Path f) throws IOException {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(f)))) {
            long[] shape = new long[in.readInt()];
            long n = 1;
            for (int d = 0; d < shape.length; d++) {
                shape[d] = in.readLong();
                n *= shape[d];
            }
            float[] v = new float[(int) n];
            for (int i = 0; i < v.length; i++) {
                v[i] = in.readFloat();
            }
            return Nd4j.create(v, shape, 'c');
        }
    }
}
