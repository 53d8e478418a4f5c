import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;

/**
 * An application with DL4J on its class path and not repopt-dl4j (DeployModelTest launches it as a single-file
 * program): for each (zip, input, output) triple of its arguments it restores the zip and writes the network's
 * inference output. Arrays are big-endian: rank, shape (longs), float values.
 */
public class PlainDl4jApp {
    public static void main(String[] args) throws Exception {
        try {
            Class.forName("org.repopt.nn.ChannelMultiplyVertex");
            throw new IllegalStateException("repopt-dl4j is on this application's class path");
        } catch (ClassNotFoundException expected) {
            System.out.println("no repopt-dl4j classes");
        }
        for (int i = 0; i + 2 < args.length; i += 3) {
            ComputationGraph net = ModelSerializer.restoreComputationGraph(new File(args[i]), false);
            INDArray x = read(new File(args[i + 1]));
            INDArray y = net.outputSingle(false, x.castTo(net.getConfiguration().getDataType()));
            write(new File(args[i + 2]), y.castTo(DataType.FLOAT));
            System.out.println("restored " + args[i] + ": " + net.getNumLayers() + " layers");
        }
    }

    private static INDArray read(File f) throws Exception {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(new FileInputStream(f)))) {
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

    private static void write(File f, INDArray a) throws Exception {
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(new FileOutputStream(f)))) {
            out.writeInt(a.rank());
            for (long s : a.shape()) {
                out.writeLong(s);
            }
            for (float v : a.dup('c').data().asFloat()) {
                out.writeFloat(v);
            }
        }
    }
}
