package io.modelpress.engine.profile;

import io.modelpress.engine.EngineException;
import java.util.List;
import java.util.Objects;

/**
 * Hardware profiles that cannot be used: a file that is not valid YAML or JSON, a field the
 * schema refuses, two files declaring the same id, an id nobody declared.
 *
 * <p>Every problem is one line that names where it is and why, e.g.
 * {@code profiles/edge.yaml: budgets.size-mb: must be greater than 0, not -5}. The message joins
 * them with {@code "; "} so that one exception reports every problem of a folder at once: the
 * owner fixes them in one round instead of one per restart.
 */
public final class ProfileException extends EngineException {

    private final List<String> problems;

    public ProfileException(String problem) {
        this(List.of(Objects.requireNonNull(problem, "problem is null")));
    }

    public ProfileException(List<String> problems) {
        super(join(problems));
        this.problems = problems.stream().map(ProfileException::oneLine).toList();
    }

    /** Problems found in one source, each prefixed with the source's name. */
    static ProfileException in(String source, List<String> problems) {
        Objects.requireNonNull(source, "source is null");
        return new ProfileException(problems.stream().map(problem -> source + ": " + problem).toList());
    }

    /** Each problem on its own, in the order found; never empty. */
    public List<String> problems() {
        return problems;
    }

    private static String join(List<String> problems) {
        Objects.requireNonNull(problems, "problems is null");
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a ProfileException needs at least one problem");
        }
        return String.join("; ", problems.stream().map(ProfileException::oneLine).toList());
    }

    // Messages end up in logs, events and a CLI's single error line: a line break would split them.
    private static String oneLine(String text) {
        return Objects.requireNonNull(text, "problem is null").strip().replaceAll("\\s*[\\r\\n]+\\s*", " ");
    }
}
