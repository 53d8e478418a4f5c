package org.repopt.search;

import org.repopt.gr.ScalesFile;
import org.repopt.train.TrainResult;

import java.nio.file.Path;
import java.util.Objects;

/**
 * What a Hyper-Search produced.
 *
 * @param scales   the searched scales
 * @param file     where they were written
 * @param training the search model's training run (its accuracy does not predict the target's, paper Table 6)
 */
public record SearchResult(ScalesFile scales, Path file, TrainResult training) {

    /** Validates the fields. */
    public SearchResult {
        Objects.requireNonNull(scales, "scales");
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(training, "training");
    }
}
