package io.fleetpulse.runtime.yaml;

/** One mistake in a YAML file a person wrote: where it is (1-based line and column) and what is wrong. */
public record YamlProblem(String source, int line, int column, String message) {

    @Override
    public String toString() {
        return source + ":" + line + ":" + column + ": " + message;
    }
}
