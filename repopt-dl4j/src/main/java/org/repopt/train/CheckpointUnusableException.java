package org.repopt.train;

import java.nio.file.Path;

/**
 * No checkpoint kept in a run folder passes the checks a resume makes (intact zip with updater state, consistent with
 * {@code checkpoint.json}); the message says what is wrong with each. The folder was not changed; the run must be
 * started again.
 */
public final class CheckpointUnusableException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    private final transient Path folder;

    /**
     * @param folder  the run folder
     * @param message what is wrong with each kept checkpoint
     */
    CheckpointUnusableException(Path folder, String message) {
        super(message);
        this.folder = folder;
    }

    /** @return the run folder */
    public Path folder() {
        return folder;
    }
}
