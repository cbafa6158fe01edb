package io.fleetpulse.runtime.yaml;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.nodes.Node;

/**
 * The one reader of every YAML file a person writes (inventory, rules, routing, silences, inhibition). It parses the
 * file into {@link YamlNode}s that remember their line and column, hands the root to a binder that turns it into a
 * typed value, and collects every problem the binder finds on the way, so one run reports them all, each as
 * {@code file:line:column: what is wrong}.
 *
 * <pre>{@code
 * Inventory inventory = YamlReader.read(path, root -> {
 *     root.allowOnly("defaults", "targets");
 *     return new Inventory(root.get("targets").items().stream().map(Inventory::target).toList());
 * });
 * }</pre>
 *
 * A binder reads through {@link YamlNode}'s typed methods, which record a problem and return a fallback instead of
 * throwing; it may then produce a half-built value, which is discarded: any problem makes {@code read} throw.
 */
public final class YamlReader {

    private YamlReader() {
    }

    /** Reads and binds {@code file}; an unreadable file is a problem too. */
    public static <T> T read(Path file, Function<YamlNode, T> binder) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new YamlFileException(file.toString(), List.of(new YamlProblem(file.toString(), 1, 1,
                    "cannot read the file: " + e)));
        }
        return parse(text, file.toString(), binder);
    }

    /** Binds {@code text}; {@code source} names it in every problem. */
    public static <T> T parse(String text, String source, Function<YamlNode, T> binder) {
        List<YamlProblem> problems = new ArrayList<>();
        Node root;
        try {
            LoaderOptions options = new LoaderOptions();
            options.setAllowDuplicateKeys(false);
            root = new Yaml(new SafeConstructor(options)).compose(new java.io.StringReader(text));
        } catch (MarkedYAMLException e) {
            Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            int line = mark == null ? 1 : mark.getLine() + 1;
            int column = mark == null ? 1 : mark.getColumn() + 1;
            throw new YamlFileException(source, List.of(new YamlProblem(source, line, column,
                    "not valid YAML: " + e.getProblem())));
        } catch (RuntimeException e) {
            throw new YamlFileException(source, List.of(new YamlProblem(source, 1, 1, "not valid YAML: " + e.getMessage())));
        }
        YamlNode top = YamlNode.root(root, source, problems);
        T value;
        try {
            value = binder.apply(top);
        } catch (YamlFileException e) {
            throw e;
        } catch (RuntimeException e) {
            // A binder that chokes on a fallback value after a recorded problem: the problems are the real story.
            if (!problems.isEmpty()) {
                throw new YamlFileException(source, problems);
            }
            throw e;
        }
        if (!problems.isEmpty()) {
            problems.sort(Comparator.comparingInt(YamlProblem::line).thenComparingInt(YamlProblem::column));
            throw new YamlFileException(source, problems);
        }
        return value;
    }
}
