package io.fleetpulse.stream;

import java.util.List;

/** A rules file that cannot be used; each problem names the rule id (or its position) and the field. */
public final class RuleFileException extends RuntimeException {

    private final List<String> problems;

    public RuleFileException(String source, List<String> problems) {
        super("Invalid rules in " + source + ":\n  - " + String.join("\n  - ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
