package io.fleetpulse.sink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class DocumentedQueriesTest {

    @Test
    void shouldReadEveryNamedQueryOfTheSqlBlockWithoutItsSemicolon() {
        List<DocumentedQueries.Query> queries = DocumentedQueries.parse("""
                text
                ```sql
                -- first-one: The first question
                SELECT 1
                FROM t;

                -- a plain comment is no header
                -- second: The second
                SELECT 2;
                ```
                ```sql
                -- ignored: only the first block counts
                SELECT 3;
                ```
                """);
        assertEquals(List.of(new DocumentedQueries.Query("first-one", "The first question", "SELECT 1\nFROM t"),
                new DocumentedQueries.Query("second", "The second", "SELECT 2")), queries);
    }

    @Test
    void shouldRefuseAStatementWithoutAName() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> DocumentedQueries.parse("```sql\n-- just a comment\nSELECT 1;\n```\n"));
        assertTrue(e.getMessage().contains("without a '-- name: description' line"), e.getMessage());
    }

    @Test
    void shouldRefuseARepeatedNameAndAnUnendedStatement() {
        assertThrows(IllegalStateException.class,
                () -> DocumentedQueries.parse("```sql\n-- a: x\nSELECT 1;\n-- a: y\nSELECT 2;\n```\n"));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> DocumentedQueries.parse("```sql\n-- a: x\nSELECT 1\n-- b: y\nSELECT 2;\n```\n"));
        assertTrue(e.getMessage().contains("'a' is not ended by ';'"), e.getMessage());
    }

    @Test
    void shouldShipTheQueriesOfDocsSinkMdInTheJar() throws Exception {
        // The module runs from sink/; the docs are beside it. The jar's copy is the document, not an older one.
        String doc = Files.readString(Path.of("..", "docs", "sink.md"));
        assertEquals(DocumentedQueries.parse(doc), DocumentedQueries.all());
        assertTrue(DocumentedQueries.named("worst-servers").orElseThrow().sql().contains("FROM worst_targets_last_week"));
        assertTrue(DocumentedQueries.all().size() >= 14, DocumentedQueries.all().toString());
    }
}
