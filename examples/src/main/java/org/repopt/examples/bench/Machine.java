package org.repopt.examples.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The machine a figure was measured on, as the benchmark and the demo print it. */
public final class Machine {

    private static final Path CPUINFO = Path.of("/proc/cpuinfo");

    private Machine() {
    }

    /** @return the CPU model, e.g. {@code AMD EPYC}, or {@code os.arch} where {@code /proc/cpuinfo} is missing */
    public static String cpuModel() {
        String model = cpuField("model name");
        return "unknown".equals(model) ? System.getProperty("os.arch") : model;
    }

    /**
     * @param name a field of {@code /proc/cpuinfo}, e.g. {@code cpu MHz}
     * @return its value for the first CPU, or {@code unknown}
     */
    public static String cpuField(String name) {
        if (!Files.isReadable(CPUINFO)) {
            return "unknown";
        }
        try {
            return Files.readAllLines(CPUINFO).stream().filter(l -> l.startsWith(name))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + CPUINFO, e);
        }
    }
}
