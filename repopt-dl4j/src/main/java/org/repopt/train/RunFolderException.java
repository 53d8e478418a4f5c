package org.repopt.train;

import java.nio.file.Path;

/**
 * A run folder that cannot be used as asked: it holds another run, a live run is using it, there is nothing to
 * resume in it, or it is a file. Nothing in the folder was changed. {@link #problem()} says which, so that a caller
 * (the command line) can give its own advice.
 */
public final class RunFolderException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    /** Why the folder was refused. */
    public enum Problem {
        /** The folder holds a checkpointed run. */
        HOLDS_RUN,
        /** The folder holds the metrics of a run that stopped before its first checkpoint. */
        HOLDS_UNFINISHED_RUN,
        /** Another training run (this process or another) is using the folder right now. */
        IN_USE,
        /** The folder holds no checkpoint to resume. */
        NOTHING_TO_RESUME,
        /** The path is an existing file, not a folder. */
        NOT_A_FOLDER
    }

    private final Problem problem;
    private final transient Path folder;

    /**
     * @param problem why
     * @param folder  the run folder
     * @param message what happened and what to do, in the library's words
     */
    RunFolderException(Problem problem, Path folder, String message) {
        super(message);
        this.problem = problem;
        this.folder = folder;
    }

    /** @return why the folder was refused */
    public Problem problem() {
        return problem;
    }

    /** @return the run folder */
    public Path folder() {
        return folder;
    }
}
