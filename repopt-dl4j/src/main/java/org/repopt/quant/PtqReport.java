package org.repopt.quant;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The result of {@link Int8Ptq#run}: float and simulated-INT8 top-1 on the same evaluation data, the weight
 * statistics of the deployed (folded) convolution kernels and the calibrated activation quantizers.
 *
 * @param config            the options used
 * @param floatTop1         top-1 accuracy of the trained graph as given, in {@code [0, 1]}
 * @param int8Top1          top-1 accuracy of the fake-quantized deploy graph, in {@code [0, 1]}
 * @param evaluated         how many examples both accuracies were measured on
 * @param convWeights       statistics of each deployed convolution kernel, in forward order
 * @param allConvWeights    statistics of all deployed convolution kernels pooled
 * @param activationPoints  the calibrated activation quantizers, in forward order
 */
public record PtqReport(PtqConfig config, double floatTop1, double int8Top1, long evaluated,
                        List<WeightStats> convWeights, WeightStats allConvWeights, List<QuantPoint> activationPoints) {

    /** Validates and copies the lists. */
    public PtqReport {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(allConvWeights, "allConvWeights");
        if (!(floatTop1 >= 0 && floatTop1 <= 1) || !(int8Top1 >= 0 && int8Top1 <= 1)) {
            throw new IllegalArgumentException("accuracies must be in [0, 1], got float " + floatTop1 + " and int8 "
                    + int8Top1);
        }
        if (evaluated < 1) {
            throw new IllegalArgumentException("evaluated examples must be >= 1, got " + evaluated);
        }
        convWeights = List.copyOf(convWeights);
        activationPoints = List.copyOf(activationPoints);
    }

    /** @return {@code 100 * (floatTop1 - int8Top1)}: the accuracy lost to quantization, in percentage points */
    public double top1DropPoints() {
        return 100 * (floatTop1 - int8Top1);
    }

    /** @return a readable multi-line report: accuracies, weight statistics table, activation quantizers */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder();
        s.append("INT8 post-training quantization (simulated): ").append(config).append('\n');
        s.append(String.format(Locale.ROOT,
                "float top-1 %.2f %%   INT8 top-1 %.2f %%   drop %.2f points   (%d examples)%n", 100 * floatTop1,
                100 * int8Top1, top1DropPoints(), evaluated));
        s.append("deployed conv kernels (BN folded):\n");
        s.append(WeightStats.header()).append('\n');
        convWeights.forEach(w -> s.append(w.row()).append('\n'));
        s.append(allConvWeights.row()).append('\n');
        s.append("activation quantizers:\n");
        s.append(String.format(Locale.ROOT, "%-24s %-10s %12s %12s%n", "after", "grid", "range", "scale"));
        for (QuantPoint p : activationPoints) {
            s.append(String.format(Locale.ROOT, "%-24s %-10s %12.4e %12.4e%n", p.after(),
                    p.signed() ? "[-127,127]" : "[0,255]", p.range(), p.scale()));
        }
        return s.toString();
    }
}
