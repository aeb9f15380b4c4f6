package io.modelpress.cli;

import io.modelpress.engine.EngineException;
import io.modelpress.engine.profile.ProfileException;
import io.modelpress.model.ModelException;
import io.modelpress.spi.OptionException;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code modelpress} command. Exit codes: 0 done, 1 done with failed steps or an internal error, 2 bad usage or input. */
@Command(name = "modelpress", mixinStandardHelpOptions = true, versionProvider = ModelpressCli.Version.class,
        description = "Compresses ONNX models for hardware targets with plugins.",
        subcommands = {PluginsCommand.class, ProfilesCommand.class, InspectCommand.class, DataCommand.class, CompressCommand.class,
                BenchCommand.class, SensitivityCommand.class, DemoCommand.class, RegisterCommand.class,
                CommandLine.HelpCommand.class})
public final class ModelpressCli {

    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int BAD_INPUT = 2;
    /** The planner kept the original: nothing met the budget and the floors, or nothing could be judged. */
    public static final int KEPT_ORIGINAL = 3;

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line with these streams; returns the exit code. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new ModelpressCli());
        cli.setOut(out);
        cli.setErr(err);
        cli.setParameterExceptionHandler((e, arguments) -> {
            err.println("modelpress: " + e.getMessage() + suggestion(e) + " (see '"
                    + e.getCommandLine().getCommandSpec().qualifiedName() + " --help')");
            return BAD_INPUT;
        });
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (isBadInput(e)) {
                err.println("modelpress: " + oneLine(e.getMessage()));
                return BAD_INPUT;
            }
            err.println("modelpress: internal error: " + e.getClass().getSimpleName() + ": " + oneLine(e.getMessage())
                    + (Boolean.getBoolean("modelpress.debug") ? "" : " (set MODELPRESS_DEBUG=1 for the stack trace)"));
            if (Boolean.getBoolean("modelpress.debug")) {
                e.printStackTrace(err);
            }
            return FAILED;
        });
        return cli.execute(args);
    }

    /**
     * For a mistyped command or option, the closest ones picocli knows: "; did you mean 'compress'?".
     * picocli ranks every name; only those a typo or two away are offered, or else its best guess.
     */
    static String suggestion(CommandLine.ParameterException e) {
        if (!(e instanceof CommandLine.UnmatchedArgumentException unmatched) || unmatched.getSuggestions().isEmpty()
                || unmatched.getUnmatched().isEmpty()) {
            return "";
        }
        String typed = unmatched.getUnmatched().get(0);
        List<String> names = unmatched.getSuggestions();
        List<String> close = names.stream().filter(name -> editDistance(typed, name) <= 1 + typed.length() / 4).limit(3).toList();
        List<String> offered = close.isEmpty() ? names.subList(0, 1) : close;
        return "; did you mean " + String.join(" or ", offered.stream().map(name -> "'" + name + "'").toList()) + "?";
    }

    /** Levenshtein distance: insertions, deletions and substitutions. */
    static int editDistance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    static boolean isBadInput(Throwable e) {
        return e instanceof EngineException || e instanceof ModelException || e instanceof ProfileException
                || e instanceof OptionException;
    }

    static String oneLine(String text) {
        return text == null ? "" : text.strip().replaceAll("\\s*\\R\\s*", " ");
    }

    /** The version from the jar's manifest, or "development" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = ModelpressCli.class.getPackage().getImplementationVersion();
            return new String[] {"modelpress " + (version == null ? "development" : version)};
        }
    }
}
