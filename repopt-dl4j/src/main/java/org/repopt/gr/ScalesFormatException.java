package org.repopt.gr;

import org.repopt.io.JsonFormatException;

/**
 * A scales file that {@link ScalesFile#read} refuses: not strict JSON, an unknown or missing key, a value of the wrong
 * type, or scales that do not form a valid architecture or do not reproduce their check figures. The message names
 * the file, the block and expected vs actual; {@link #file()}, {@link #block()}, {@link #field()},
 * {@link #expected()} and {@link #actual()} give the parts.
 */
public final class ScalesFormatException extends JsonFormatException {

    private static final long serialVersionUID = 1L;

    private final String block;

    /**
     * @param file     the file (or stream name)
     * @param block    the block's name, or {@code null} when the problem is not one block's
     * @param path     the place in the document (e.g. {@code blocks[2] (stage1.0)}), or {@code ""}
     * @param field    the key of the bad value, or {@code null}
     * @param expected what was expected
     * @param actual   what the file holds
     * @param problem  the sentence describing the problem
     */
    public ScalesFormatException(String file, String block, String path, String field, String expected,
                                 String actual, String problem) {
        super(file, path, field, expected, actual, problem);
        this.block = block;
    }

    /**
     * @param e     a strict-JSON complaint about a scales file
     * @param block the block it is about, or {@code null}
     */
    ScalesFormatException(JsonFormatException e, String block) {
        super(e);
        this.block = block;
    }

    /** @return the file (or stream name) */
    public String file() {
        return source();
    }

    /** @return the block's name, or {@code null} when the problem is not one block's */
    public String block() {
        return block;
    }
}
