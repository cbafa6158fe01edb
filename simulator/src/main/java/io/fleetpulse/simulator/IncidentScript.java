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
 * Each part is {@code kind:server@start+duration}; kinds are outage, unreachable, cpu, disk, leak, flap, slow,
 * component and latency (see {@link Incident.Kind});
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
                where + ": unknown kind '" + m.group(1) + "'; kinds are " + Incident.Kind.scriptNames()));
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
     * slow one, a partial failure (its {@code db} component down while HTTP answers 200), a leaking disk and a latency
     * shift, each on its own server (fewer when the fleet has fewer than eight servers). The first five are spread over
     * the fleet; the partial failure goes to the first server after the outage's that has no incident, the leaking disk
     * to the first free server and the latency shift to the last, so the older incidents keep the servers they always
     * had.
     *
     * <p>The first six are over 80 s after start, so with targets polled every 5 s alerts have fired and resolved within
     * two minutes. The disk passes 80 % used about 45 s in and 90 % about 60 s in (depending on its baseline), and is
     * cleaned up at 75 s. The two later ones are for rules that learn or extrapolate, and stay under every static line:
     * <ul>
     *   <li>the leaking disk climbs from its baseline (30 to 65 %) from 10 s, linearly to
     *       {@value MetricReading#DISK_LEAK_TARGET_PERCENT} % at 4 min 10 s (a few percent a minute, so full within
     *       minutes by the trend), then is cleaned up;</li>
     *   <li>task latency runs at {@value MetricReading#LATENCY_SHIFT_FACTOR} times its level from 110 s to 170 s: late
     *       enough that a detector has seen about 20 samples at 5 s of normal before it, allowing for the time the
     *       pipeline takes to start after the fleet.</li>
     * </ul>
     */
    public static IncidentScript demo(int servers) {
        if (servers < 1) {
            throw new IllegalArgumentException("a fleet needs at least one server, not " + servers);
        }
        enum Placement { SPREAD, AFTER_OUTAGE, FIRST_FREE, LAST_FREE }
        record Template(Incident.Kind kind, Duration start, Duration duration, Placement placement) {
        }
        List<Template> templates = List.of(
                new Template(Incident.Kind.OUTAGE, Duration.ofSeconds(20), Duration.ofSeconds(40), Placement.SPREAD),
                new Template(Incident.Kind.CPU_SPIKE, Duration.ofSeconds(15), Duration.ofSeconds(50), Placement.SPREAD),
                new Template(Incident.Kind.DISK_FILL, Duration.ofSeconds(5), Duration.ofSeconds(70), Placement.SPREAD),
                new Template(Incident.Kind.FLAPPING, Duration.ofSeconds(30), Duration.ofSeconds(50), Placement.SPREAD),
                new Template(Incident.Kind.SLOW, Duration.ofSeconds(25), Duration.ofSeconds(35), Placement.SPREAD),
                new Template(Incident.Kind.COMPONENT_DOWN, Duration.ofSeconds(10), Duration.ofSeconds(50), Placement.AFTER_OUTAGE),
                new Template(Incident.Kind.DISK_LEAK, Duration.ofSeconds(10), Duration.ofMinutes(4), Placement.FIRST_FREE),
                new Template(Incident.Kind.LATENCY_SHIFT, Duration.ofSeconds(110), Duration.ofSeconds(60), Placement.LAST_FREE));
        int spread = (int) templates.stream().filter(t -> t.placement() == Placement.SPREAD).count();
        int count = Math.min(servers, templates.size());
        List<Incident> incidents = new ArrayList<>();
        List<Integer> used = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Template t = templates.get(i);
            int zeroBased = switch (t.placement()) {
                // Small fleets take consecutive servers; larger ones spread the incidents (srv-002, -004, ... for ten).
                case SPREAD -> servers <= spread ? (i + 1) % servers : (i * servers / spread + 1) % servers;
                // Next to the outage (srv-003 for ten), skipping busy servers.
                case AFTER_OUTAGE -> nextFree(used, (used.get(0) + 1) % servers, 1, servers);
                case FIRST_FREE -> nextFree(used, 0, 1, servers);
                case LAST_FREE -> nextFree(used, servers - 1, -1, servers);
            };
            used.add(zeroBased);
            incidents.add(new Incident(t.kind(), SimulatedFleet.serverId(zeroBased + 1, servers), t.start(), t.duration()));
        }
        return new IncidentScript(incidents);
    }

    /** The first zero-based server from {@code from}, walking by {@code step} round the fleet, that is not used. */
    private static int nextFree(List<Integer> used, int from, int step, int servers) {
        int server = from;
        while (used.contains(server)) {
            server = Math.floorMod(server + step, servers);
        }
        return server;
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
     * @param diskFill     progress of a disk filling up, 0 to 1, or a negative number when no disk is filling
     * @param diskLeak     progress of a disk leaking towards {@link MetricReading#DISK_LEAK_TARGET_PERCENT}, 0 to 1, or a
     *                     negative number when none is
     * @param latencyShift whether task latency runs at {@link MetricReading#LATENCY_SHIFT_FACTOR} times its level
     */
    public record Condition(boolean down, boolean unreachable, boolean slow, boolean cpuSpike, double diskFill,
                            boolean componentDown, double diskLeak, boolean latencyShift) {

        public static final Condition NORMAL = new Condition(false, false, false, false, -1, false, -1, false);

        /** As before the partial-failure incident existed: no component down. */
        public Condition(boolean down, boolean unreachable, boolean slow, boolean cpuSpike, double diskFill) {
            this(down, unreachable, slow, cpuSpike, diskFill, false);
        }

        /** As before the leaking disk and the latency shift existed: neither. */
        public Condition(boolean down, boolean unreachable, boolean slow, boolean cpuSpike, double diskFill,
                         boolean componentDown) {
            this(down, unreachable, slow, cpuSpike, diskFill, componentDown, -1, false);
        }

        Condition with(Incident incident, Duration elapsed) {
            return switch (incident.kind()) {
                case OUTAGE -> new Condition(true, unreachable, slow, cpuSpike, diskFill, componentDown, diskLeak, latencyShift);
                case UNREACHABLE -> new Condition(down, true, slow, cpuSpike, diskFill, componentDown, diskLeak, latencyShift);
                case SLOW -> new Condition(down, unreachable, true, cpuSpike, diskFill, componentDown, diskLeak, latencyShift);
                case CPU_SPIKE -> new Condition(down, unreachable, slow, true, diskFill, componentDown, diskLeak, latencyShift);
                case FLAPPING -> new Condition(down || incident.isFlapDownAt(elapsed), unreachable, slow, cpuSpike, diskFill,
                        componentDown, diskLeak, latencyShift);
                case DISK_FILL -> new Condition(down, unreachable, slow, cpuSpike,
                        Math.max(diskFill, incident.progressAt(elapsed)), componentDown, diskLeak, latencyShift);
                case COMPONENT_DOWN -> new Condition(down, unreachable, slow, cpuSpike, diskFill, true, diskLeak, latencyShift);
                case DISK_LEAK -> new Condition(down, unreachable, slow, cpuSpike, diskFill, componentDown,
                        Math.max(diskLeak, incident.progressAt(elapsed)), latencyShift);
                case LATENCY_SHIFT -> new Condition(down, unreachable, slow, cpuSpike, diskFill, componentDown, diskLeak, true);
            };
        }

        Condition withOverrides(boolean forcedDown, boolean forcedUnreachable, boolean forcedSlow) {
            return new Condition(down || forcedDown, unreachable || forcedUnreachable, slow || forcedSlow, cpuSpike, diskFill,
                    componentDown, diskLeak, latencyShift);
        }

        public boolean diskFilling() {
            return diskFill >= 0;
        }

        public boolean diskLeaking() {
            return diskLeak >= 0;
        }
    }
}
