package org.repopt.io;

/**
 * A JSON file (or stream) whose content is not what its reader expects: not JSON, a duplicate key, trailing content,
 * an unknown or missing key, or a value of the wrong type or range. The message names the source, the place and
 * expected vs actual; the parts are also available for callers that react to them.
 */
public class JsonFormatException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final String source;
    private final String path;
    private final String field;
    private final String expected;
    private final String actual;

    /**
     * @param source   the file or stream, as the reader names it (e.g. {@code runs/b1/checkpoint.json})
     * @param path     where in the document the object holding the bad value is (e.g. {@code blocks[1] (stage1.0)},
     *                 {@code history[2]}), or {@code ""} for the top level or a syntax error
     * @param field    the key or element of the bad value (e.g. {@code stride}, {@code scale_conv[3]}), or
     *                 {@code null} where the problem is not one value's
     * @param expected what the reader expected
     * @param actual   what it found
     * @param problem  the sentence describing the problem, without the source and path
     */
    public JsonFormatException(String source, String path, String field, String expected, String actual,
                               String problem) {
        super(where(source, path) + ": " + problem);
        this.source = source;
        this.path = path;
        this.field = field;
        this.expected = expected;
        this.actual = actual;
    }

    /** Copies another exception's parts and message (for a subclass that adds its own). */
    protected JsonFormatException(JsonFormatException e) {
        super(e.getMessage(), e);
        this.source = e.source;
        this.path = e.path;
        this.field = e.field;
        this.expected = e.expected;
        this.actual = e.actual;
    }

    /**
     * @param source the file or stream
     * @param path   the place inside it, or {@code ""}
     * @return how messages name a place: the source, then the path after a space
     */
    public static String where(String source, String path) {
        return path.isEmpty() ? source : source + " " + path;
    }

    /** @return the file or stream, as the reader names it */
    public String source() {
        return source;
    }

    /** @return where in the document the object holding the bad value is; {@code ""} for the top level */
    public String path() {
        return path;
    }

    /** @return the key or element of the bad value, or {@code null} */
    public String field() {
        return field;
    }

    /** @return what the reader expected */
    public String expected() {
        return expected;
    }

    /** @return what it found */
    public String actual() {
        return actual;
    }
}
