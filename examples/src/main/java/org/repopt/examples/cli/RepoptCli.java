package org.repopt.examples.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine;

/**
 * The {@code ./repopt} command line: one subcommand per job. Each command maps its options one-to-one onto the
 * library's configuration types and prints what the library returns.
 */
@Command(name = "repopt", mixinStandardHelpOptions = true, versionProvider = RepoptCli.Version.class,
        description = "RepOptimizers (Gradient Re-parameterization, Ding et al., ICLR 2023) for Deeplearning4j.",
        subcommands = {DemoCommand.class, TrainCommand.class, SearchCommand.class, CheckCommand.class, ExportCommand.class,
                QuantizeCommand.class, BenchCommand.class, ModelsCommand.class, UiCommand.class, ExampleCommand.class,
                CommandLine.HelpCommand.class})
public final class RepoptCli implements Runnable {

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    /**
     * @param args command-line arguments
     */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** @return the configured command line, shared by {@link #main} and the tests */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new RepoptCli());
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof IllegalArgumentException || e instanceof IllegalStateException
                    || e instanceof java.io.IOException) {
                cmd.getErr().println(cmd.getColorScheme().errorText("error: " + CliErrors.message(e,
                        cmd.getCommandName())));
                return 2;
            }
            throw e;
        });
        return cl;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The version from the jar's manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = RepoptCli.class.getPackage().getImplementationVersion();
            return new String[]{"repopt " + (v == null ? "(development build)" : v) + ", DL4J 1.0.0-M2.1"};
        }
    }
}
