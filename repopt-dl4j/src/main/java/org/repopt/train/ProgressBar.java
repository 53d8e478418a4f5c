package org.repopt.train;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The one-line console progress of a run, redrawn in place with {@code '\r'} and throttled so that a fast loop
 * does not flood the terminal:
 * <pre>{@code
 * epoch 2/10 [#########...........] 210/468 loss 0.4321 | 1534 img/s | ETA 0:12:41
 * }</pre>
 * The ETA covers the rest of the run (training only, at this session's speed so far).
 */
final class ProgressBar {

    /** At most four redraws per second. */
    static final long MIN_INTERVAL_NANOS = 250_000_000L;
    private static final int WIDTH = 20;

    private final PrintStream out;
    private final int epochs;
    private final LongSupplier clock;
    private long lastDraw;
    private boolean drawn;
    private int lastLength;

    /**
     * @param out    where to draw, or {@code null} for no output
     * @param epochs epochs of the run
     * @param clock  nanosecond clock ({@code System::nanoTime} outside tests)
     */
    ProgressBar(PrintStream out, int epochs, LongSupplier clock) {
        this.out = out;
        this.epochs = epochs;
        this.clock = clock;
    }

    /**
     * Redraws the line unless the last redraw was less than {@link #MIN_INTERVAL_NANOS} ago; the last batch of an
     * epoch is always drawn.
     *
     * @param epoch           1-based epoch
     * @param batch           batches done in this epoch
     * @param batches         batches per epoch
     * @param loss            the last batch's loss
     * @param imagesPerSecond training speed so far in this epoch
     * @param etaSeconds      estimated seconds to the end of the run
     */
    void batch(int epoch, int batch, int batches, double loss, double imagesPerSecond, double etaSeconds) {
        if (out == null) {
            return;
        }
        long now = clock.getAsLong();
        if (drawn && batch < batches && now - lastDraw < MIN_INTERVAL_NANOS) {
            return;
        }
        int filled = batches == 0 ? WIDTH : (int) ((long) WIDTH * batch / batches);
        String line = String.format(Locale.ROOT, "epoch %d/%d [%s%s] %d/%d loss %.4f | %.0f img/s | ETA %s", epoch,
                epochs, "#".repeat(filled), ".".repeat(WIDTH - filled), batch, batches, loss, imagesPerSecond,
                duration(etaSeconds));
        draw(line);
        lastDraw = now;
        drawn = true;
    }

    /**
     * Ends the current line with a summary and a newline, so the next epoch starts a fresh line.
     *
     * @param summary the epoch's summary
     */
    void line(String summary) {
        if (out == null) {
            return;
        }
        draw(summary);
        out.print('\n');
        out.flush();
        lastLength = 0;
        drawn = false;
    }

    private void draw(String line) {
        // pad with blanks so a shorter line fully covers the previous one
        String padded = line.length() < lastLength ? line + " ".repeat(lastLength - line.length()) : line;
        out.print('\r');
        out.print(padded);
        out.flush();
        lastLength = line.length();
    }

    /**
     * @param seconds a duration, {@code >= 0} or not finite
     * @return {@code H:MM:SS}, or {@code ?} when unknown
     */
    static String duration(double seconds) {
        if (!Double.isFinite(seconds) || seconds < 0) {
            return "?";
        }
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
    }
}
