package io.fleetpulse.simulator;

import io.fleetpulse.runtime.text.Durations;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * One scripted fault of one virtual server, active from {@code startOffset} after the fleet started for
 * {@code duration} (start inclusive, end exclusive).
 */
public record Incident(Kind kind, String serverId, Duration startOffset, Duration duration) {

    /** How long a flapping server stays down, then up, then down again. */
    public static final Duration FLAP_HALF_PERIOD = Duration.ofSeconds(10);

    /** What goes wrong. {@link #scriptName()} is how the kind is written in an {@link IncidentScript}. */
    public enum Kind {
        /** Both endpoints answer 503, every health check CRITICAL. */
        OUTAGE("outage"),
        /** The connection is closed without any response. */
        UNREACHABLE("unreachable"),
        /** CPU pinned between 95 and 100 percent. */
        CPU_SPIKE("cpu"),
        /** Disk usage climbs linearly to about 99 percent over the duration, then is cleaned up. */
        DISK_FILL("disk"),
        /**
         * Disk usage creeps up linearly towards {@value MetricReading#DISK_LEAK_TARGET_PERCENT} percent over the duration,
         * then is cleaned up: a log that is never rotated. It stays under the disk check's warning line, so only a rule
         * that extrapolates the trend sees it coming.
         */
        DISK_LEAK("leak"),
        /** Down for {@link #FLAP_HALF_PERIOD}, up for as long, and so on; down first. */
        FLAPPING("flap"),
        /** Every response is delayed by {@link SimulatedFleet#SLOW_DELAY}. */
        SLOW("slow"),
        /**
         * A partial failure: the {@value VirtualServer#DB_CHECK} component reports CRITICAL while the health endpoint
         * still answers 200 and every other check stays OK (the body's overall status says DOWN, as an actuator's
         * would).
         */
        COMPONENT_DOWN("component"),
        /**
         * Task latency runs at {@value MetricReading#LATENCY_SHIFT_FACTOR} times its usual level, noise included; CPU,
         * checks and everything else stay as they were. Far from any static line, so only a detector that knows the
         * series' own past notices.
         */
        LATENCY_SHIFT("latency");

        private final String scriptName;

        Kind(String scriptName) {
            this.scriptName = scriptName;
        }

        public String scriptName() {
            return scriptName;
        }

        /** Every kind's script name, in declaration order: {@code outage, unreachable, ...}. */
        public static String scriptNames() {
            return Arrays.stream(values()).map(Kind::scriptName).collect(Collectors.joining(", "));
        }

        /** Accepts the script name ({@code cpu}) or the constant's name in any case ({@code cpu_spike}). */
        public static Optional<Kind> fromText(String text) {
            String t = text.strip().toLowerCase(Locale.ROOT).replace('-', '_');
            return Arrays.stream(values())
                    .filter(k -> k.scriptName.equals(t) || k.name().toLowerCase(Locale.ROOT).equals(t))
                    .findFirst();
        }
    }

    public Incident {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(startOffset, "startOffset");
        Objects.requireNonNull(duration, "duration");
        if (serverId == null || serverId.isBlank()) {
            throw new IllegalArgumentException("an incident needs a server id");
        }
        if (startOffset.isNegative()) {
            throw new IllegalArgumentException("incident start offset must not be negative: " + startOffset);
        }
        if (duration.isNegative() || duration.isZero()) {
            throw new IllegalArgumentException("incident duration must be positive: " + duration);
        }
    }

    public Duration endOffset() {
        return startOffset.plus(duration);
    }

    /** Whether the incident is under way {@code elapsed} after the fleet started. */
    public boolean isActiveAt(Duration elapsed) {
        return elapsed.compareTo(startOffset) >= 0 && elapsed.compareTo(endOffset()) < 0;
    }

    /** How far through the incident we are, 0 at its start to 1 at its end; clamped outside. */
    public double progressAt(Duration elapsed) {
        double done = (double) elapsed.minus(startOffset).toMillis() / duration.toMillis();
        return Math.max(0, Math.min(1, done));
    }

    /** For a flapping incident: down during the first half-period, up during the second, and so on. */
    public boolean isFlapDownAt(Duration elapsed) {
        long intoIncident = elapsed.minus(startOffset).toMillis();
        return isActiveAt(elapsed) && (intoIncident / FLAP_HALF_PERIOD.toMillis()) % 2 == 0;
    }

    /** The incident as written in a script: {@code outage:srv-003@20s+40s}. */
    @Override
    public String toString() {
        return kind.scriptName() + ":" + serverId + "@" + Durations.format(startOffset)
                + "+" + Durations.format(duration);
    }
}
