package io.fleetpulse.alerting.route;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One node of the routing tree: which alerts it takes ({@code matchers}, all must hold), who gets them, how they are
 * grouped and when the group is notified. Children inherit receiver, grouping and timers unless they set their own.
 *
 * @param id               the node's place in the tree, {@code root}, {@code root.0}, {@code root.0.2}: part of every
 *                         group key, so renaming a receiver never merges or splits groups, while reordering routes does
 * @param continueMatching Alertmanager's {@code continue}: after this route matched, its later siblings are tried too
 */
public record Route(String id, List<Matcher> matchers, String receiver, GroupBy groupBy, Timers timers,
                    boolean continueMatching, List<Route> routes) {

    /** {@code group_by}: the label names whose values make a group, or {@code ...}: every label (one group per label set). */
    public record GroupBy(List<String> labels, boolean all) {

        public static final GroupBy ALL = new GroupBy(List.of(), true);

        /** The values that tell this route's groups apart, by name. */
        public Map<String, String> of(Map<String, String> alertLabels) {
            if (all) {
                return new TreeMap<>(alertLabels);
            }
            Map<String, String> key = new TreeMap<>();
            for (String label : labels) {
                key.put(label, alertLabels.getOrDefault(label, ""));
            }
            return key;
        }

        @Override
        public String toString() {
            return all ? "[...]" : labels.toString();
        }
    }

    /**
     * Alertmanager's timers: a new group waits {@code groupWait} before its first notification (to gather its
     * alerts); a changed group is notified at most every {@code groupInterval}; an unchanged firing group is notified
     * again after {@code repeatInterval}.
     */
    public record Timers(Duration groupWait, Duration groupInterval, Duration repeatInterval) {

        /** Alertmanager's defaults. */
        public static final Timers DEFAULTS = new Timers(Duration.ofSeconds(30), Duration.ofMinutes(5),
                Duration.ofHours(4));
    }

    public Route {
        matchers = List.copyOf(matchers);
        routes = List.copyOf(routes);
    }

    /** Whether every matcher of this node holds (a node without matchers takes everything). */
    public boolean takes(Map<String, String> alertLabels) {
        for (Matcher matcher : matchers) {
            if (!matcher.matches(alertLabels)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The routes that get an alert that reached this node: the deepest matching descendants, Alertmanager's way. The
     * children are tried in order; the first that takes the alert is followed down, and the search stops there unless
     * it says {@code continue}. When no child takes it, this node does.
     */
    List<Route> deliveringRoutes(Map<String, String> alertLabels) {
        List<Route> found = new ArrayList<>();
        for (Route child : routes) {
            if (!child.takes(alertLabels)) {
                continue;
            }
            found.addAll(child.deliveringRoutes(alertLabels));
            if (!child.continueMatching) {
                break;
            }
        }
        if (found.isEmpty()) {
            found.add(this);
        }
        return found;
    }
}
