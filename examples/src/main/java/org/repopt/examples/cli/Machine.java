package org.repopt.examples.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The machine a figure was measured on, as tables print it. */
final class Machine {

    private Machine() {
    }

    /** @return the CPU model from {@code /proc/cpuinfo}, or {@code os.arch} where that file is missing */
    static String cpuModel() {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        if (Files.isReadable(cpuinfo)) {
            try {
                List<String> lines = Files.readAllLines(cpuinfo);
                for (String l : lines) {
                    if (l.startsWith("model name")) {
                        return l.substring(l.indexOf(':') + 1).trim();
                    }
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("cannot read " + cpuinfo, e);
            }
        }
        return System.getProperty("os.arch");
    }
}
