package io.fleetpulse.simulator;

import io.fleetpulse.runtime.text.Durations;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The faults a simulated fleet goes through, as data: {@code outage:srv-003@20s+40s,cpu:srv-007@10s+60s}.
 * Each part is {@code kind:server@start+duration}; kinds are outage, unreachable, cpu, disk, flap, slow and component;
 * durations are written {@code 500ms}, {@code 20s}, {@code 2m} or {@code 1h}, measured from the fleet's start.
 */
public final class IncidentScript {

    private static final Pattern PART = Pattern.compile("([^:@+\\s]+)\\s*:\\s*([^:@+\\s]+)\\s*@\\s*([^@+\\s]+)\\s*\\+\\s*([^@+\\s]+)");
    private static final String FORM = "expected kind:server@start+duration, e.g. outage:srv-003@20s+40s";

    private static final IncidentScript NONE = new IncidentScript(List.of());

    private final List<Incident> incidents;

    private IncidentScript(List<Incident> incidents) {
        this.incidents = incidents.stream()
                .sorted(Comparator.comparing(Incident::startOffset).thenComparing(Incident::serverId))
                .toList();
    }

    public static IncidentScript none() {
        return NONE;
    }

    public static IncidentScript of(Collection<Incident> incidents) {
        return new IncidentScript(List.copyOf(incidents));
    }

    public static IncidentScript of(Incident... incidents) {
        return of(List.of(incidents));
    }

    /**
     * Parses a comma-separated script. A blank text is the empty script.
     *
     * @throws IllegalArgumentException naming the part that is wrong and why
     */
    public static IncidentScript parse(String text) {
        if (text == null || text.isBlank()) {
            return NONE;
        }
        List<Incident> parsed = new ArrayList<>();
        String[] parts = text.split(",", -1);
        for (int i = 0; i < parts.length; i++) {
            parsed.add(parsePart(parts[i].strip(), i + 1));
        }
        return new IncidentScript(parsed);
    }

    private static Incident parsePart(String part, int position) {
        String where = "incident " + position + " '" + part + "'";
        if (part.isEmpty()) {
            throw new IllegalArgumentException(where + " is empty (a stray comma?); " + FORM);
        }
        Matcher m = PART.matcher(part);
        if (!m.matches()) {
            String missing = !part.contains(":") ? "no ':' after the kind"
                    : !part.contains("@") ? "no '@start' after the server"
                    : !part.contains("+") ? "no '+duration' after the start"
                    : "it is not well formed";
            throw new IllegalArgumentException(where + ": " + missing + "; " + FORM);
        }
        Incident.Kind kind = Incident.Kind.fromText(m.group(1)).orElseThrow(() -> new IllegalArgumentException(
                where + ": unknown kind '" + m.group(1) + "'; kinds are outage, unreachable, cpu, disk, flap, slow, component"));
        Duration start = parseDuration(m.group(3), where, "start");
        Duration duration = parseDuration(m.group(4), where, "duration");
        if (duration.isZero()) {
            throw new IllegalArgumentException(where + ": the duration must be positive");
        }
        return new Incident(kind, m.group(2), start, duration);
    }

    private static Duration parseDuration(String text, String where, String what) {
        try {
            return Durations.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": the " + what + " " + e.getMessage());
        }
    }

    /**
     * The script a command line names: {@code demo} (the demo's script for this fleet size), {@code none}, or a
     * script in {@link #parse(String)} syntax. The one place the CLI's {@code --incidents} is interpreted.
     */
    public static IncidentScript named(String spec, int servers) {
        return switch (spec.strip()) {
            case "demo" -> demo(servers);
            case "none", "" -> none();
            default -> parse(spec);
        };
    }

    /**
     * The demo's script for a fleet of {@code servers}: an outage, a CPU spike, a filling disk, a flapping server, a
     * slow one and a partial failure (its {@code db} component down while HTTP answers 200), each on its own server,
     * spread over the fleet (fewer when the fleet has fewer than six servers). The partial failure goes to the first
     * server after the outage's that has no incident, so the other five keep the servers they always had.
     * Every incident is over 80 s after start, so with targets polled every 5 s alerts have fired and resolved
     * within two minutes. The disk passes 80 % used about 45 s in and 90 % about 60 s in (depending on its
     * baseline), and is cleaned up at 75 s.
     */
    public static IncidentScript demo(int servers) {
        if (servers < 1) {
            throw new IllegalArgumentException("a fleet needs at least one server, not " + servers);
        }
        record Template(Incident.Kind kind, Duration start, Duration duration) {
        }
        List<Template> templates = List.of(
                new Template(Incident.Kind.OUTAGE, Duration.ofSeconds(20), Duration.ofSeconds(40)),
                new Template(Incident.Kind.CPU_SPIKE, Duration.ofSeconds(15), Duration.ofSeconds(50)),
                new Template(Incident.Kind.DISK_FILL, Duration.ofSeconds(5), Duration.ofSeconds(70)),
                new Template(Incident.Kind.FLAPPING, Duration.ofSeconds(30), Duration.ofSeconds(50)),
                new Template(Incident.Kind.SLOW, Duration.ofSeconds(25), Duration.ofSeconds(35)),
                new Template(Incident.Kind.COMPONENT_DOWN, Duration.ofSeconds(10), Duration.ofSeconds(50)));
        int spread = templates.size() - 1;
        int count = Math.min(servers, templates.size());
        List<Incident> incidents = new ArrayList<>();
        List<Integer> used = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int zeroBased;
            if (i < spread) {
                // Small fleets take consecutive servers; larger ones spread the incidents (srv-002, -004, ... for ten).
                zeroBased = servers <= spread ? (i + 1) % servers : (i * servers / spread + 1) % servers;
            } else {
                zeroBased = (used.get(0) + 1) % servers; // next to the outage (srv-003 for ten), skipping busy servers
                while (used.contains(zeroBased)) {
                    zeroBased = (zeroBased + 1) % servers;
                }
            }
            used.add(zeroBased);
            Template t = templates.get(i);
            incidents.add(new Incident(t.kind(), SimulatedFleet.serverId(zeroBased + 1, servers), t.start(), t.duration()));
        }
        return new IncidentScript(incidents);
    }

    public List<Incident> incidents() {
        return incidents;
    }

    public boolean isEmpty() {
        return incidents.isEmpty();
    }

    /** When the last incident is over; zero for the empty script. */
    public Duration end() {
        return incidents.stream().map(Incident::endOffset).max(Comparator.naturalOrder()).orElse(Duration.ZERO);
    }

    /** The incidents of {@code serverId} under way {@code elapsed} after start. */
    public List<Incident> activeAt(String serverId, Duration elapsed) {
        return incidents.stream().filter(i -> i.serverId().equals(serverId) && i.isActiveAt(elapsed)).toList();
    }

    /** What the script does to {@code serverId} {@code elapsed} after start. */
    public Condition conditionAt(String serverId, Duration elapsed) {
        Condition condition = Condition.NORMAL;
        for (Incident incident : activeAt(serverId, elapsed)) {
            condition = condition.with(incident, elapsed);
        }
        return condition;
    }

    /** @throws IllegalArgumentException when an incident names a server that is not in {@code serverIds} */
    public void requireServersIn(Collection<String> serverIds) {
        List<String> unknown = incidents.stream().filter(i -> !serverIds.contains(i.serverId()))
                .map(Incident::toString).toList();
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("incident(s) " + unknown + " name servers outside the fleet ("
                    + serverIds.size() + " servers)");
        }
    }


    /** The script in its own syntax; {@link #parse(String)} reads it back to an equal script. */
    @Override
    public String toString() {
        return incidents.stream().map(Incident::toString).collect(Collectors.joining(","));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IncidentScript other && other.incidents.equals(incidents);
    }

    @Override
    public int hashCode() {
        return incidents.hashCode();
    }

    /**
     * What is wrong with one server at one instant: the sum of its active incidents (and, in the fleet, its manual
     * overrides).
     *
     * @param diskFill progress of a disk filling up, 0 to 1, or a negative number when no disk is filling
     */
    public record Condition(boolean down, boolean unreachable, boolean slow, boolean cpuSpike, double diskFill,
                            boolean componentDown) {

        public static final Condition NORMAL = new Condition(false, false, false, false, -1, false);

        /** As before the partial-failure incident existed: no component down. */
        public Condition(boolean down, boolean unreachable, boolean slow, boolean cpuSpike, double diskFill) {
            this(down, unreachable, slow, cpuSpike, diskFill, false);
        }

        Condition with(Incident incident, Duration elapsed) {
            return switch (incident.kind()) {
                case OUTAGE -> new Condition(true, unreachable, slow, cpuSpike, diskFill, componentDown);
                case UNREACHABLE -> new Condition(down, true, slow, cpuSpike, diskFill, componentDown);
                case SLOW -> new Condition(down, unreachable, true, cpuSpike, diskFill, componentDown);
                case CPU_SPIKE -> new Condition(down, unreachable, slow, true, diskFill, componentDown);
                case FLAPPING -> new Condition(down || incident.isFlapDownAt(elapsed), unreachable, slow, cpuSpike, diskFill,
                        componentDown);
                case DISK_FILL -> new Condition(down, unreachable, slow, cpuSpike,
                        Math.max(diskFill, incident.progressAt(elapsed)), componentDown);
                case COMPONENT_DOWN -> new Condition(down, unreachable, slow, cpuSpike, diskFill, true);
            };
        }

        Condition withOverrides(boolean forcedDown, boolean forcedUnreachable, boolean forcedSlow) {
            return new Condition(down || forcedDown, unreachable || forcedUnreachable, slow || forcedSlow, cpuSpike, diskFill,
                    componentDown);
        }

        public boolean diskFilling() {
            return diskFill >= 0;
        }
    }
}
