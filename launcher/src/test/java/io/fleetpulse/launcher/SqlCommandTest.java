package io.fleetpulse.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SqlCommandTest {

    @Test
    void shouldEndAStatementAtASemicolonOutsideQuotesAndComments() {
        SqlCommand.StatementSplitter splitter = new SqlCommand.StatementSplitter();
        assertEquals(List.of(), splitter.add("SELECT 'a;b', \"odd;name\" -- a comment; not the end"));
        assertFalse(splitter.isEmpty(), "a statement is waiting for its ';'");
        assertEquals(List.of("SELECT 'a;b', \"odd;name\" \nFROM t /* ; */"), splitter.add("FROM t /* ; */;"));
        assertTrue(splitter.isEmpty());
    }

    @Test
    void shouldSplitSeveralStatementsOnOneLineAndKeepDoubledQuotes() {
        SqlCommand.StatementSplitter splitter = new SqlCommand.StatementSplitter();
        assertEquals(List.of("SELECT 'it''s;'", "SELECT 2"), splitter.add("SELECT 'it''s;'; SELECT 2;"));
    }

    @Test
    void shouldKeepADollarQuotedBodyWholeAcrossLines() {
        SqlCommand.StatementSplitter splitter = new SqlCommand.StatementSplitter();
        assertEquals(List.of(), splitter.add("DO $body$ BEGIN PERFORM 1;"));
        assertEquals(List.of("DO $body$ BEGIN PERFORM 1;\nEND $body$"), splitter.add("END $body$;"));
    }

    @Test
    void shouldTreatACommentAloneAsNoPendingStatement() {
        SqlCommand.StatementSplitter splitter = new SqlCommand.StatementSplitter();
        assertEquals(List.of(), splitter.add("-- just a note"));
        assertTrue(splitter.isEmpty());
    }
}
