package org.repopt.examples.cli;

import org.repopt.train.RunFolderException;
import org.repopt.train.TrainingDivergedException;

import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * The command line's wording of the library's errors: advice in terms of commands and flags ({@code --resume},
 * {@code --out}, {@code --lr}) rather than library methods, and a file system error that names only its path given
 * the words for what happened.
 */
final class CliErrors {

    private CliErrors() {
    }

    /**
     * @param e       what the command threw
     * @param command the subcommand's name, e.g. {@code train}
     * @return the message to print after {@code error: }
     */
    static String message(Exception e, String command) {
        if (e instanceof RunFolderException) {
            RunFolderException r = (RunFolderException) e;
            String dir = String.valueOf(r.folder());
            switch (r.problem()) {
                case HOLDS_RUN:
                    return dir + " already holds a run; continue it with ./repopt " + command + " --resume --out "
                            + dir + ", or choose another --out";
                case HOLDS_UNFINISHED_RUN:
                    return dir + " holds the metrics of a run that stopped before its first checkpoint (no run is "
                            + "using the folder); remove the folder, or choose another --out";
                case IN_USE:
                    return e.getMessage().replace("or use another folder", "or choose another --out");
                case NOTHING_TO_RESUME:
                    return "nothing to resume in " + dir + ": it holds no checkpoint; start the run without --resume"
                            + " (or name the run's folder with --out)";
                default:
                    return "--out " + dir + " is an existing file; expected a folder (created when missing)";
            }
        }
        if (e instanceof TrainingDivergedException) {
            return e.getMessage() + " (./repopt " + command + ": a lower --lr, in a new --out)";
        }
        if (e instanceof FileSystemException && ((FileSystemException) e).getReason() == null) {
            FileSystemException f = (FileSystemException) e;
            return f.getFile() + ": " + what(f) + (f.getOtherFile() == null ? "" : " (" + f.getOtherFile() + ")");
        }
        return e.getMessage();
    }

    private static String what(FileSystemException f) {
        if (f instanceof NoSuchFileException) {
            return "no such file or folder";
        }
        if (f instanceof FileAlreadyExistsException) {
            return "already exists";
        }
        if (f instanceof NotDirectoryException) {
            return "not a folder";
        }
        if (f instanceof DirectoryNotEmptyException) {
            return "a folder that is not empty";
        }
        if (f instanceof AccessDeniedException) {
            return "permission denied";
        }
        return f.getClass().getSimpleName();
    }
}
