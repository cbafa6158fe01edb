package io.fleetpulse.runtime.yaml;

import io.fleetpulse.runtime.text.Durations;
import io.fleetpulse.runtime.text.Suggestions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * A node of a YAML file being read by {@link YamlReader}: a map, a list, a scalar, or a key that is not there. Every
 * typed read records a problem at the node's line and column when the value is wrong and returns the fallback, so
 * a binder goes on and finds the next mistake too. Reading a missing key gives a missing node (never null), located at
 * the map that lacks it.
 */
public final class YamlNode {

    private final Node node;          // null when the key is missing
    private final String path;        // e.g. targets[2].interval, for messages
    private final String source;
    private final Mark mark;          // where the node is, or where its parent map is when missing
    private final List<YamlProblem> problems;
    private Map<String, YamlNode> entries;

    private YamlNode(Node node, String path, String source, Mark mark, List<YamlProblem> problems) {
        this.node = node;
        this.path = path;
        this.source = source;
        this.mark = mark;
        this.problems = problems;
    }

    static YamlNode root(Node node, String source, List<YamlProblem> problems) {
        return new YamlNode(node, "", source, node == null ? null : node.getStartMark(), problems);
    }

    // ---------------------------------------------------------------- what it is, where it is

    /** The dotted path of this node in its file, e.g. {@code targets[2].interval}; empty for the root. */
    public String path() {
        return path;
    }

    public int line() {
        return mark == null ? 1 : mark.getLine() + 1;
    }

    public int column() {
        return mark == null ? 1 : mark.getColumn() + 1;
    }

    /** {@code file:line:column}, for messages a binder writes itself. */
    public String location() {
        return source + ":" + line() + ":" + column();
    }

    /** False for a key that is not in its map (or an empty document). */
    public boolean exists() {
        return node != null;
    }

    /** True for a missing key and for a key with no value ({@code key:} or {@code key: null}). */
    public boolean isAbsent() {
        return node == null || (node instanceof ScalarNode s && s.getTag().equals(Tag.NULL));
    }

    public boolean isMap() {
        return node instanceof MappingNode;
    }

    public boolean isList() {
        return node instanceof SequenceNode;
    }

    public boolean isScalar() {
        return node instanceof ScalarNode && !isAbsent();
    }

    /** Records a problem at this node: {@code file:line:column: path: message}. */
    public void problem(String message) {
        problems.add(new YamlProblem(source, line(), column(), (path.isEmpty() ? "" : path + ": ") + message));
    }

    // ---------------------------------------------------------------- maps and lists

    /** The value under {@code key}; a missing node when this is no map or has no such key. */
    public YamlNode get(String key) {
        YamlNode child = entries().get(key);
        return child != null ? child : new YamlNode(null, childPath(key), source, mark, problems);
    }

    /** As {@link #get}, recording a problem when the key is missing or has no value. */
    public YamlNode require(String key) {
        YamlNode child = get(key);
        if (child.isAbsent()) {
            (child.exists() ? child : this).problem(child.exists()
                    ? "needs a value" : "missing required key '" + key + "'");
            child.absenceReported = true;
        }
        return child;
    }

    /** The keys of this map, in file order; empty when this is not a map. */
    public Set<String> keys() {
        return Collections.unmodifiableSet(entries().keySet());
    }

    /** The entries of this map in file order; records a problem if this exists and is not a map. */
    public Map<String, YamlNode> entries() {
        if (entries != null) {
            return entries;
        }
        entries = new LinkedHashMap<>();
        if (node == null || isAbsent()) {
            return entries;
        }
        if (!(node instanceof MappingNode map)) {
            problem("expected a map of keys to values, found " + kind());
            return entries;
        }
        for (NodeTuple tuple : map.getValue()) {
            Node keyNode = tuple.getKeyNode();
            if (!(keyNode instanceof ScalarNode scalarKey)) {
                new YamlNode(keyNode, path, source, keyNode.getStartMark(), problems).problem("keys must be plain text");
                continue;
            }
            String key = scalarKey.getValue();
            YamlNode previous = entries.get(key);
            if (previous != null) {
                new YamlNode(keyNode, childPath(key), source, keyNode.getStartMark(), problems)
                        .problem("duplicate key '" + key + "' (first at line " + previous.keyLine + ")");
                continue;
            }
            YamlNode child = new YamlNode(tuple.getValueNode(), childPath(key), source,
                    tuple.getValueNode().getStartMark(), problems);
            child.keyLine = keyNode.getStartMark().getLine() + 1;
            child.keyMark = keyNode.getStartMark();
            entries.put(key, child);
        }
        return entries;
    }

    private int keyLine;
    private Mark keyMark;
    private boolean absenceReported;

    /**
     * Rejects every key of this map not in {@code allowed}, naming the closest allowed key; returns this map.
     * A missing node allows anything (there is nothing to check).
     */
    public YamlNode allowOnly(Collection<String> allowed) {
        for (Map.Entry<String, YamlNode> e : entries().entrySet()) {
            if (!allowed.contains(e.getKey())) {
                YamlNode child = e.getValue();
                Mark at = child.keyMark != null ? child.keyMark : child.mark;
                new YamlNode(child.node, child.path, source, at, problems).problem("unknown key '" + e.getKey() + "'"
                        + Suggestions.didYouMean(e.getKey(), allowed) + "; allowed here: "
                        + allowed.stream().sorted().collect(Collectors.joining(", ")));
            }
        }
        return this;
    }

    public YamlNode allowOnly(String... allowed) {
        return allowOnly(Arrays.asList(allowed));
    }

    /** The items of this list; empty when absent; records a problem if this is something else. */
    public List<YamlNode> items() {
        if (isAbsent()) {
            return List.of();
        }
        if (!(node instanceof SequenceNode seq)) {
            problem("expected a list, found " + kind());
            return List.of();
        }
        List<YamlNode> out = new ArrayList<>();
        List<Node> values = seq.getValue();
        for (int i = 0; i < values.size(); i++) {
            Node item = values.get(i);
            out.add(new YamlNode(item, path + "[" + i + "]", source, item.getStartMark(), problems));
        }
        return out;
    }

    // ---------------------------------------------------------------- scalars

    /** The text of this scalar, or {@code fallback} when absent; a map or list is a problem. */
    public String text(String fallback) {
        if (isAbsent()) {
            return fallback;
        }
        if (!(node instanceof ScalarNode scalar)) {
            problem("expected a single value, found " + kind());
            return fallback;
        }
        return scalar.getValue();
    }

    public Optional<String> optionalText() {
        return Optional.ofNullable(text(null));
    }

    /** Text that must be there: a missing or empty value is a problem (and gives ""). */
    public String requiredText() {
        String value = text(null);
        if (value == null || value.isBlank()) {
            // A map or list was already reported by text(); a missing key by require().
            if (!absenceReported && !isMap() && !isList()) {
                problem(exists() ? "must not be empty" : "is required");
            }
            return "";
        }
        return value;
    }

    /** A whole number from {@code min} to {@code max}. */
    public long integer(long fallback, long min, long max) {
        return convert(fallback, "a whole number from " + min + " to " + max, text -> {
            long value = Long.parseLong(text.replace("_", ""));
            return value >= min && value <= max ? value : null;
        });
    }

    /** A finite number from {@code min} to {@code max}. */
    public double number(double fallback, double min, double max) {
        return convert(fallback, "a number from " + min + " to " + max, text -> {
            double value = Double.parseDouble(text);
            return Double.isFinite(value) && value >= min && value <= max ? value : null;
        });
    }

    /** Any finite number. */
    public double number(double fallback) {
        return convert(fallback, "a number", text -> {
            double value = Double.parseDouble(text);
            return Double.isFinite(value) ? value : null;
        });
    }

    /** {@code true} or {@code false} (also {@code yes} / {@code no}). */
    public boolean bool(boolean fallback) {
        return convert(fallback, "true or false", text -> switch (text.toLowerCase(Locale.ROOT)) {
            case "true", "yes" -> true;
            case "false", "no" -> false;
            default -> null;
        });
    }

    /** A duration in the one FleetPulse syntax ({@link Durations}); zero allowed. */
    public Duration duration(Duration fallback) {
        return convert(fallback, Durations.SYNTAX, Durations::parse);
    }

    /** A duration greater than zero. */
    public Duration positiveDuration(Duration fallback) {
        return convert(fallback, "a positive duration such as 30s, 5m, 1h, 7d", Durations::parsePositive);
    }

    /** One of {@code allowed}, compared ignoring case; the closest is suggested when it is not. */
    public String oneOf(Collection<String> allowed, String fallback) {
        String value = text(null);
        if (value == null) {
            return fallback;
        }
        for (String a : allowed) {
            if (a.equalsIgnoreCase(value)) {
                return a;
            }
        }
        problem("'" + value + "' is not one of " + String.join(", ", allowed) + Suggestions.didYouMean(value, allowed));
        return fallback;
    }

    /** An enum constant written in any case, with {@code -} for {@code _}. */
    public <E extends Enum<E>> E oneOf(Class<E> type, E fallback) {
        List<String> names = Arrays.stream(type.getEnumConstants()).map(e -> e.name().toLowerCase(Locale.ROOT)).toList();
        String chosen = oneOf(names, null);
        return chosen == null ? fallback : Enum.valueOf(type, chosen.toUpperCase(Locale.ROOT));
    }

    /** A list of texts; a single text is taken as a list of one. */
    public List<String> textList(List<String> fallback) {
        if (isAbsent()) {
            return fallback;
        }
        if (node instanceof ScalarNode) {
            return List.of(text(""));
        }
        return items().stream().map(item -> item.text("")).toList();
    }

    /** A map of text to text, such as labels. */
    public Map<String, String> textMap(Map<String, String> fallback) {
        if (isAbsent()) {
            return fallback;
        }
        Map<String, String> out = new LinkedHashMap<>();
        entries().forEach((k, v) -> out.put(k, v.text("")));
        return out;
    }

    // ----------------------------------------------------------------

    private <T> T convert(T fallback, String expected, Function<String, T> parser) {
        String text = text(null);
        if (text == null) {
            return fallback;
        }
        T value;
        try {
            value = parser.apply(text.strip());
        } catch (RuntimeException e) {
            value = null;
        }
        if (value == null) {
            problem("'" + text + "' is not " + expected);
            return fallback;
        }
        return value;
    }

    private String kind() {
        if (node instanceof MappingNode) {
            return "a map";
        }
        if (node instanceof SequenceNode) {
            return "a list";
        }
        return "'" + ((ScalarNode) node).getValue() + "'";
    }

    private String childPath(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    @Override
    public String toString() {
        return location() + (path.isEmpty() ? "" : " " + path);
    }
}
