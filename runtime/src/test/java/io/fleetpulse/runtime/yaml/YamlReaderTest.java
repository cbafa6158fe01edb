package io.fleetpulse.runtime.yaml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class YamlReaderTest {

    /** A tiny schema: the shape every FleetPulse file binder has. */
    record Target(String id, Duration interval, long port, List<String> checks, Map<String, String> labels) {
    }

    private static List<Target> bind(YamlNode root) {
        root.allowOnly("defaults", "targets");
        Duration defaultInterval = root.get("defaults").allowOnly("interval").get("interval").positiveDuration(Duration.ofSeconds(10));
        return root.require("targets").items().stream().map(t -> {
            t.allowOnly("id", "interval", "port", "checks", "labels");
            return new Target(t.require("id").requiredText(), t.get("interval").positiveDuration(defaultInterval),
                    t.get("port").integer(80, 1, 65_535), t.get("checks").textList(List.of()), t.get("labels").textMap(Map.of()));
        }).toList();
    }

    @Test
    void shouldBindAValidFile() {
        List<Target> targets = YamlReader.parse("""
                defaults: { interval: 7d }
                targets:
                  - id: srv-1
                    port: 8080
                    checks: [http, db]
                    labels: { role: api }
                  - id: srv-2
                    interval: PT30S
                """, "inventory.yaml", YamlReaderTest::bind);

        assertEquals(new Target("srv-1", Duration.ofDays(7), 8080, List.of("http", "db"), Map.of("role", "api")), targets.get(0));
        assertEquals(Duration.ofSeconds(30), targets.get(1).interval());
    }

    @Test
    void shouldReportEveryProblemWithFileLineAndColumn() {
        YamlFileException e = assertThrows(YamlFileException.class, () -> YamlReader.parse("""
                defaults: { interval: 0s }
                tragets: []
                targets:
                  - id: srv-1
                    intervall: 5s
                    port: 70000
                  - port: http
                """, "inventory.yaml", YamlReaderTest::bind));

        List<String> shown = e.problems().stream().map(YamlProblem::toString).toList();
        assertEquals(6, shown.size(), e.getMessage());
        assertEquals("inventory.yaml:1:23: defaults.interval: '0s' is not a positive duration such as 30s, 5m, 1h, 7d", shown.get(0));
        assertTrue(shown.get(1).startsWith("inventory.yaml:2:1: tragets: unknown key 'tragets' (did you mean 'targets'?)"), shown.get(1));
        assertTrue(shown.get(2).startsWith("inventory.yaml:5:5: targets[0].intervall: unknown key 'intervall' (did you mean 'interval'?)"),
                shown.get(2));
        assertEquals("inventory.yaml:6:11: targets[0].port: '70000' is not a whole number from 1 to 65535", shown.get(3));
        assertEquals("inventory.yaml:7:5: targets[1]: missing required key 'id'", shown.get(4));
        assertEquals("inventory.yaml:7:11: targets[1].port: 'http' is not a whole number from 1 to 65535", shown.get(5));
        assertTrue(e.getMessage().startsWith("inventory.yaml has 6 problems:"), e.getMessage());
    }

    @Test
    void shouldNameTheLineOfBrokenYaml() {
        YamlFileException e = assertThrows(YamlFileException.class,
                () -> YamlReader.parse("targets:\n  - id: a\n   bad: [\n", "rules.yaml", YamlReaderTest::bind));
        assertEquals(1, e.problems().size());
        assertTrue(e.getMessage().startsWith("rules.yaml:3:"), e.getMessage());
        assertTrue(e.getMessage().contains("not valid YAML"), e.getMessage());
    }

    @Test
    void shouldRejectDuplicateKeys() {
        YamlFileException e = assertThrows(YamlFileException.class,
                () -> YamlReader.parse("targets:\n  - id: a\n    id: b\n", "x.yaml", YamlReaderTest::bind));
        assertTrue(e.getMessage().contains("x.yaml:3:5: targets[0].id: duplicate key 'id' (first at line 2)"), e.getMessage());
    }

    @Test
    void shouldSayWhatWasFoundWhereAListOrMapWasExpected() {
        YamlFileException e = assertThrows(YamlFileException.class,
                () -> YamlReader.parse("targets: srv-1\n", "x.yaml", YamlReaderTest::bind));
        assertEquals("x.yaml:1:10: targets: expected a list, found 'srv-1'", e.getMessage());
    }

    @Test
    void shouldReportAnEmptyFileAsMissingKeys() {
        YamlFileException e = assertThrows(YamlFileException.class, () -> YamlReader.parse("", "x.yaml", YamlReaderTest::bind));
        assertEquals("x.yaml:1:1: missing required key 'targets'", e.getMessage());
    }

    @Test
    void shouldKeepTheProblemsWhenTheBinderChokesOnAFallback() {
        YamlFileException e = assertThrows(YamlFileException.class, () -> YamlReader.parse("n: many\n", "x.yaml", root -> {
            long n = root.get("n").integer(0, 1, 10);
            return 10 / n; // the fallback 0 makes the binder throw; the recorded problem is what is reported
        }));
        assertEquals("x.yaml:1:4: n: 'many' is not a whole number from 1 to 10", e.getMessage());
    }

    @Test
    void shouldReadEnumsAndChoicesIgnoringCaseAndSuggestingTheClosest() {
        enum Severity { WARNING, CRITICAL }
        assertEquals(Severity.CRITICAL, YamlReader.parse("s: Critical\n", "x.yaml",
                root -> root.get("s").oneOf(Severity.class, Severity.WARNING)));
        YamlFileException e = assertThrows(YamlFileException.class, () -> YamlReader.parse("s: critcal\n", "x.yaml",
                root -> root.get("s").oneOf(Severity.class, Severity.WARNING)));
        assertTrue(e.getMessage().contains("'critcal' is not one of warning, critical (did you mean 'critical'?)"), e.getMessage());
    }
}
