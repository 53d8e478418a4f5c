package org.repopt.train;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ProgressBarTest {

    @Test
    void redrawsInPlaceAtMostFourTimesASecond() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        long[] now = {0};
        ProgressBar bar = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), 2, () -> now[0]);
        bar.batch(1, 1, 10, 2.5, 100, 3725);
        now[0] += 100_000_000L;
        bar.batch(1, 2, 10, 2.4, 100, 3700);            // 0.1 s later: skipped
        now[0] += 200_000_000L;
        bar.batch(1, 3, 10, 2.3, 100, 3600);            // 0.3 s after the first draw: drawn
        bar.batch(1, 10, 10, 2.0, 100, 3500);           // the epoch's last batch: always drawn
        bar.line("epoch 1/2: done");
        String out = bytes.toString(StandardCharsets.UTF_8);
        String last = "epoch 1/2 [####################] 10/10 loss 2.0000 | 100 img/s | ETA 0:58:20";
        String summary = "epoch 1/2: done";
        assertEquals("\repoch 1/2 [##..................] 1/10 loss 2.5000 | 100 img/s | ETA 1:02:05"
                + "\repoch 1/2 [######..............] 3/10 loss 2.3000 | 100 img/s | ETA 1:00:00"
                + "\r" + last
                + "\r" + summary + " ".repeat(last.length() - summary.length()) + "\n", out,
                "the summary is padded to cover the longer bar");
    }

    @Test
    void noStreamPrintsNothingAndUnknownEtaShowsAQuestionMark() {
        ProgressBar bar = new ProgressBar(null, 1, System::nanoTime);
        bar.batch(1, 1, 1, 1, 1, 1);
        bar.line("x");
        assertEquals("?", ProgressBar.duration(Double.NaN));
        assertEquals("0:00:00", ProgressBar.duration(0.2));
    }
}
