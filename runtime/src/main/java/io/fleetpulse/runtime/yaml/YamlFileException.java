package io.fleetpulse.runtime.yaml;

import java.util.List;

/** A YAML file that cannot be used, with every problem found in it, each naming file, line and column. */
public final class YamlFileException extends RuntimeException {

    private final String source;
    private final List<YamlProblem> problems;

    public YamlFileException(String source, List<YamlProblem> problems) {
        super(describe(source, problems));
        this.source = source;
        this.problems = List.copyOf(problems);
    }

    public String source() {
        return source;
    }

    public List<YamlProblem> problems() {
        return problems;
    }

    private static String describe(String source, List<YamlProblem> problems) {
        if (problems.size() == 1) {
            return problems.get(0).toString();
        }
        StringBuilder out = new StringBuilder(source).append(" has ").append(problems.size()).append(" problems:");
        problems.forEach(p -> out.append("\n  ").append(p));
        return out.toString();
    }
}
