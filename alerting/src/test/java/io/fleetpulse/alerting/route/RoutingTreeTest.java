package io.fleetpulse.alerting.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fleetpulse.runtime.yaml.YamlFileException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RoutingTreeTest {

    private static final Map<String, String> ENV = Map.of("TEAM_SLACK_URL", "https://hooks.slack.com/services/T/B/secret",
            "PD_KEY", "routing-key-1", "HOOK_URL", "http://localhost:9/hook");

    static final String FILE = """
            receivers:
              - {name: team-slack, kind: slack, url_env: TEAM_SLACK_URL}
              - {name: oncall, kind: pagerduty, routing_key_env: PD_KEY}
              - {name: db-hook, kind: webhook, url_env: HOOK_URL}
            route:
              receiver: team-slack
              group_by: [group, rule]
              group_wait: 10s
              routes:
                - matchers: ['severity="critical"']
                  receiver: oncall
                  group_by: [target]
                  continue: true
                - matchers: ['group=~"db-.*"']
                  group_interval: 1m
                  routes:
                    - matchers: ['rule="disk-almost-full"']
                      receiver: db-hook
                      repeat_interval: 1h
                - matchers: ['env="staging"']
                  receiver: db-hook
            inhibit_rules:
              - source_matchers: ['rule="target-down"']
                target_matchers: ['rule!="target-down"']
                equal: [target]
            """;

    private final RoutingTree tree = RoutingTree.parse(FILE, "routing.yaml", ENV::get);

    private static Map<String, String> alert(String severity, String group, String rule, String env) {
        return Map.of("severity", severity, "group", group, "rule", rule, "target", "web-1", "env", env);
    }

    @Test
    void shouldSendToTheDeepestMatchingRouteAndStopWithoutContinue() {
        assertEquals(Set.of("team-slack"), tree.receiversOf(alert("warning", "frontend", "cpu-high", "prod")));
        assertEquals(List.of("root.1.0"), ids(tree.routesOf(alert("warning", "db-main", "disk-almost-full", "prod"))));
        // A child route that matches stops the search: staging db alerts stay with the db route.
        assertEquals(List.of("root.1"), ids(tree.routesOf(alert("warning", "db-main", "cpu-high", "staging"))));
        assertEquals(List.of("root.2"), ids(tree.routesOf(alert("info", "frontend", "cpu-high", "staging"))));
    }

    @Test
    void shouldTryLaterSiblingsAfterARouteThatContinues() {
        assertEquals(List.of("root.0", "root.1.0"),
                ids(tree.routesOf(alert("critical", "db-main", "disk-almost-full", "prod"))));
        // Once a child took it, the parent does not: a critical frontend alert goes to oncall only.
        assertEquals(Set.of("oncall"), tree.receiversOf(alert("critical", "frontend", "cpu-high", "prod")));
    }

    @Test
    void shouldInheritReceiverGroupingAndTimersFromTheParent() {
        Route db = tree.root().routes().get(1);
        Route disk = db.routes().get(0);
        assertEquals("team-slack", db.receiver());
        assertEquals(List.of("group", "rule"), db.groupBy().labels());
        assertEquals(new Route.Timers(Duration.ofSeconds(10), Duration.ofMinutes(1), Duration.ofHours(1)), disk.timers());
        assertEquals(new Route.Timers(Duration.ofSeconds(10), Duration.ofMinutes(5), Duration.ofHours(4)),
                tree.root().routes().get(0).timers());
        assertEquals(List.of("target"), tree.root().routes().get(0).groupBy().labels());
    }

    @Test
    void shouldGroupByEveryLabelWithDots() {
        RoutingTree dots = RoutingTree.parse("""
                receivers: [{name: s, kind: slack, url_env: TEAM_SLACK_URL}]
                route: {receiver: s, group_by: ['...']}
                """, "r.yaml", ENV::get);
        Map<String, String> labels = alert("info", "g", "r", "prod");
        assertTrue(dots.root().groupBy().all());
        assertEquals(labels, dots.root().groupBy().of(labels));
        assertEquals(Map.of("group", "g", "rule", "r"), tree.root().groupBy().of(labels));
        assertEquals(Map.of("target", "web-1", "dc", ""), new Route.GroupBy(List.of("target", "dc"), false).of(labels));
    }

    @Test
    void shouldReadSecretsFromTheEnvironmentAndFiles(@TempDir Path dir) throws Exception {
        Path key = dir.resolve("pd-key");
        Files.writeString(key, "file-routing-key\n");
        RoutingTree fromFile = RoutingTree.parse("""
                receivers: [{name: pd, kind: pagerduty, routing_key_file: %s, url: 'http://localhost:9/enqueue'}]
                route: {receiver: pd}
                """.formatted(key), "r.yaml", ENV::get);
        ReceiverSpec pd = fromFile.receivers().get(0);
        assertEquals("file-routing-key", pd.routingKey());
        assertEquals(URI.create("http://localhost:9/enqueue"), pd.url());
        assertEquals(URI.create("https://hooks.slack.com/services/T/B/secret"), tree.receivers().get(0).url());
        assertEquals(RoutingTree.PAGERDUTY_EVENTS, tree.receivers().get(1).url());
    }

    @Test
    void shouldNameFileLineAndColumnOfEveryBadRoute() {
        YamlFileException e = assertThrows(YamlFileException.class, () -> RoutingTree.parse("""
                receivers:
                  - {name: s, kind: slack, url_env: MISSING_VAR}
                  - {name: h, kind: webhook, url: 'http://x/token'}
                route:
                  receiver: s
                  routes:
                    - matchers: ['env=~"("']
                      receiver: nobody
                    - {matchers: ['env'], group_wait: soon}
                """, "routing.yaml", ENV::get));
        String message = e.getMessage();
        assertTrue(message.contains("routing.yaml:2:"), message);
        assertTrue(message.contains("environment variable MISSING_VAR is not set"), message);
        assertTrue(message.contains("routing.yaml:3:"), message);
        assertTrue(message.contains("url_env or url_file"), message);
        assertFalse(message.contains("http://x/token"), "a URL given in the file is not echoed: " + message);
        assertTrue(message.contains("routing.yaml:7:"), message);
        assertTrue(message.contains("invalid regex"), message);
        assertTrue(message.contains("routing.yaml:8:") && message.contains("unknown receiver 'nobody'"), message);
        assertTrue(message.contains("routing.yaml:9:") && message.contains("is not a matcher"), message);
        assertTrue(message.contains("group_wait"), message);
    }

    @Test
    void shouldSendEveryAlertToEveryReceiverWithoutAFile() {
        RoutingTree every = RoutingTree.everyReceiver(List.of("slack", "pagerduty"));
        assertEquals(Set.of("slack", "pagerduty"), every.receiversOf(alert("info", "g", "r", "prod")));
        assertEquals(Duration.ZERO, every.routesOf(Map.of()).get(0).timers().groupWait());
        assertTrue(RoutingTree.everyReceiver(List.of()).routesOf(Map.of()).isEmpty());
    }

    @Test
    void shouldInhibitOnlyWithEqualLabels() {
        InhibitRule rule = tree.inhibitRules().get(0);
        Map<String, String> down = Map.of("rule", "target-down", "target", "web-1");
        assertTrue(rule.inhibits(down, Map.of("rule", "cpu-high", "target", "web-1")));
        assertFalse(rule.inhibits(down, Map.of("rule", "cpu-high", "target", "web-2")));
        assertFalse(rule.inhibits(down, down));
        assertFalse(rule.inhibits(Map.of("rule", "cpu-high", "target", "web-1"), Map.of("rule", "disk", "target", "web-1")));
    }

    private static List<String> ids(List<Route> routes) {
        return routes.stream().map(Route::id).toList();
    }
}
