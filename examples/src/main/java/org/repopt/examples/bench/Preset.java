package org.repopt.examples.bench;

import org.repopt.gr.ScalesFile;
import org.repopt.model.CslaVgg;
import org.repopt.model.Variant;
import org.repopt.model.VggSpec;

import java.util.Locale;

/**
 * The benchmark's architectures and batch sizes, identical to those of {@code bench/pytorch_peer.py}.
 */
public enum Preset {
    /** The Fashion-MNIST-size net ({@link VggSpec#small()}), batch 64, Hyper-Search initial scales. */
    SMALL("small", 64),
    /** RepOpt-VGG-B1 widths at 3x32x32 with 100 classes (the paper's CIFAR-100 search shape), batch 32. */
    B1_CIFAR("b1-cifar", 32);

    private final String cliName;
    private final int batch;

    Preset(String cliName, int batch) {
        this.cliName = cliName;
        this.batch = batch;
    }

    /** @return the command-line name */
    public String cliName() {
        return cliName;
    }

    /** @return the training and inference batch size */
    public int batch() {
        return batch;
    }

    /** @return the architecture */
    public VggSpec spec() {
        return this == SMALL ? VggSpec.small() : VggSpec.of(Variant.B1).withInput(3, 32, 32).withClasses(100);
    }

    /**
     * @return the RepOptimizer's scales: the paper's released B1 scales for b1-cifar, the Hyper-Search initial values
     * for small (the cost of training does not depend on the values)
     */
    public ScalesFile scales() {
        if (this == B1_CIFAR) {
            return ScalesFile.released("B1");
        }
        return CslaVgg.initialScales(spec());
    }

    /**
     * @param name a command-line name
     * @return the preset
     */
    public static Preset parse(String name) {
        for (Preset p : values()) {
            if (p.cliName.equals(name.toLowerCase(Locale.ROOT))) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown preset '" + name + "'; known: small, b1-cifar");
    }
}
