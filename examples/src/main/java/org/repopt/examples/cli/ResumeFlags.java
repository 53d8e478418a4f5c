package org.repopt.examples.cli;

import picocli.CommandLine.ParseResult;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Checks the flags given together with {@code --resume} against the run being resumed: a flag that is absent takes
 * the run's value; a flag that is given must equal it, or the resume is refused, naming every such flag and the
 * run's value (a resumed run continues exactly, so it cannot change what it trains).
 */
final class ResumeFlags {

    private final ParseResult parsed;
    private final Path run;
    private final List<String> conflicts = new ArrayList<>();

    /**
     * @param parsed the command's parse result
     * @param run    the run folder being resumed
     */
    ResumeFlags(ParseResult parsed, Path run) {
        this.parsed = Objects.requireNonNull(parsed, "parsed");
        this.run = run;
    }

    /**
     * @param flag     the option, e.g. {@code --wd}
     * @param runValue the run's value
     * @param given    the flag's value now (read only when the flag was given)
     * @return this
     */
    ResumeFlags same(String flag, Object runValue, Object given) {
        if (parsed.hasMatchedOption(flag) && !equal(runValue, given)) {
            conflicts.add(flag + " " + given + " (the run has " + (runValue == null ? "none" : runValue) + ")");
        }
        return this;
    }

    private static boolean equal(Object a, Object b) {
        if (a instanceof Number && b instanceof Number) {
            return ((Number) a).doubleValue() == ((Number) b).doubleValue();
        }
        if (a instanceof String && b instanceof String) {
            return ((String) a).equalsIgnoreCase((String) b);
        }
        return Objects.equals(a, b);
    }

    /**
     * @throws IllegalArgumentException naming every conflicting flag and the run's value
     */
    void check() {
        if (!conflicts.isEmpty()) {
            throw new IllegalArgumentException("cannot resume " + run + " with " + String.join(", ", conflicts)
                    + ": a resumed run keeps the values it was started with; leave these flags out, or train a new "
                    + "run into another --out");
        }
    }
}
