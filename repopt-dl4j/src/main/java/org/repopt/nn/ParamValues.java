package org.repopt.nn;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * Parameters as plain {@code double[]} in c order, the form every exact computation of this project (Rule of
 * Initialization, RepVGG fusion, BN folding, quantization) works in, whatever the network's data type.
 */
public final class ParamValues {

    private ParamValues() {
    }

    /**
     * @param a any array (a view, any order, any floating type)
     * @return its values in c order, as doubles
     */
    public static double[] of(INDArray a) {
        return a.dup('c').castTo(DataType.DOUBLE).data().asDouble();
    }

    /**
     * Writes values into an array, converting to its data type.
     *
     * @param target the array to overwrite (a parameter view stays a view)
     * @param values c-order values, one per element of {@code target}
     * @throws IllegalArgumentException where the counts differ
     */
    public static void assign(INDArray target, double[] values) {
        if (values.length != target.length()) {
            throw new IllegalArgumentException(values.length + " values for an array of shape "
                    + Arrays.toString(target.shape()));
        }
        target.assign(Nd4j.create(values, target.shape(), DataType.DOUBLE).castTo(target.dataType()));
    }
}
