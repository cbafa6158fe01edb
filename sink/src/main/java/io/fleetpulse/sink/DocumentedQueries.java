package io.fleetpulse.sink;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The ready-to-run queries of docs/sink.md, by name: {@code fleetpulse sql --query worst-servers} and the test that
 * runs every one of them against the migrated schema read them from here, and here reads them from the document
 * itself (the build ships docs/sink.md in this module's jar), so the SQL is written once, where people read it.
 *
 * <p>The document's first {@code ```sql} block is a list of queries, each a comment line
 * {@code -- name: what it answers} followed by one statement ending in {@code ;}.
 */
public final class DocumentedQueries {

    /** Where the build puts docs/sink.md (see this module's pom). */
    static final String RESOURCE = "/io/fleetpulse/sink/sink.md";

    private static final Pattern HEADER = Pattern.compile("^-- ([a-z0-9]+(?:-[a-z0-9]+)*): (.+)$");
    private static final String FENCE = "```";

    /** One documented query: its name, the question it answers and its SQL (without the final {@code ;}). */
    public record Query(String name, String description, String sql) {
    }

    private DocumentedQueries() {
    }

    /** Every documented query, in the document's order. */
    public static List<Query> all() {
        try (InputStream in = DocumentedQueries.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is not on the classpath: the sink jar was built without docs/sink.md");
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The documented query called {@code name}. */
    public static Optional<Query> named(String name) {
        return all().stream().filter(q -> q.name().equals(name)).findFirst();
    }

    /**
     * The queries of the first {@code ```sql} block of {@code markdown}.
     *
     * @throws IllegalStateException when a statement has no {@code -- name: ...} line, a name repeats, or a
     *                               statement is not ended by {@code ;}: the document is then wrong, and saying so
     *                               beats guessing
     */
    static List<Query> parse(String markdown) {
        int open = markdown.indexOf(FENCE + "sql");
        if (open < 0) {
            throw new IllegalStateException("docs/sink.md has no ```sql block");
        }
        int from = markdown.indexOf('\n', open) + 1;
        int close = markdown.indexOf(FENCE, from);
        Map<String, Query> queries = new LinkedHashMap<>();
        String name = null;
        String description = null;
        List<String> statement = new ArrayList<>();
        for (String line : markdown.substring(from, close).split("\n", -1)) {
            String text = line.strip();
            Matcher header = HEADER.matcher(text);
            if (header.matches()) {
                requireEnded(name, statement);
                name = header.group(1);
                description = header.group(2);
                if (queries.containsKey(name)) {
                    throw new IllegalStateException("docs/sink.md names two queries '" + name + "'");
                }
                continue;
            }
            if (text.isEmpty() || text.startsWith("--")) {
                continue;
            }
            if (name == null) {
                throw new IllegalStateException("docs/sink.md: a statement without a '-- name: description' line before it: " + text);
            }
            statement.add(line.stripTrailing());
            if (text.endsWith(";")) {
                String sql = String.join("\n", statement).strip();
                queries.put(name, new Query(name, description, sql.substring(0, sql.length() - 1).stripTrailing()));
                statement.clear();
                name = null;
            }
        }
        requireEnded(name, statement);
        return List.copyOf(queries.values());
    }

    private static void requireEnded(String name, List<String> statement) {
        if (name != null) {
            throw new IllegalStateException("docs/sink.md: query '" + name + "' is "
                    + (statement.isEmpty() ? "empty" : "not ended by ';'"));
        }
    }
}
