package io.fleetpulse.stream;

import io.fleetpulse.events.Severity;
import io.fleetpulse.runtime.text.Numbers;
import java.time.Duration;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * One validated rule, whatever its {@link #kind()}: fire when {@link #signal()} meets {@link #fire()} for
 * {@link #fireFor()}, resolve when it meets {@link #recovery()} for {@link #recoveryFor()}. Built by {@link RuleBook}.
 *
 * <p>This is the one rule model: every kind of the rules file compiles to it, and {@link AlertEngine} runs it with
 * {@code observe(sample)} and {@code tick(now)} without knowing the kind. {@code threshold} is the model as written;
 * {@code error_rate} with {@code window: 1m | 1h} is a threshold on {@link Signal#ERROR_RATE_1M} or
 * {@link Signal#ERROR_RATE_1H}; {@code absence} with {@code after} is a threshold on the window engine's
 * {@link Signal#SILENCE_SECONDS}. A new kind (anomaly, predictive) plugs in the same way: {@link RuleBook} reads its
 * fields and compiles it onto a signal (a new one if it needs one, produced where the other signals are, e.g. a
 * deviation score computed upstream of the engine), so the engine, the state machine and the stored state stay as they
 * are.
 *
 * @param kind       how the rule was written ({@link #THRESHOLD}, {@link #ERROR_RATE}, {@link #ABSENCE}, ...); it
 *                   changes nothing in how the rule runs, {@link RuleBook#kind} tells it to whoever counts alerts
 * @param warmUp     how long after a target first appears (its first sample reaching the rules) the rule ignores its
 *                   values, so a target that is still starting does not page; zero for none
 * @param stale      null, or what becomes of a PENDING or FIRING alert that has had no fresh value for a while
 * @param detection  null, or for {@link #ANOMALY} and {@link #PREDICTIVE} the model each value is judged by: the
 *                   conditions then apply to what it derives (an anomaly score, seconds until a limit), not to the value
 *
 * @param check      for a {@linkplain #perCheck() per-check signal}, the one check name the rule watches; null watches
 *                   every check, each with its own state and alert
 * @param mOfN       null, or fire when M of the last N values met the firing condition (instead of {@code for})
 * @param minSamples values standing on fewer observations (a window's checks) are ignored by the rule; 1 for all
 * @param severity   the severity of the firing condition, the rule's lowest tier
 * @param escalations higher tiers, by rising severity, each with a stricter condition than the one below: a firing
 *                   alert takes the severity of the highest tier its value meets (one alert whose severity moves up)
 * @param descriptionTemplate null, or the longer text of a firing alert, with the summary's placeholders
 * @param runbookTemplate     null, or an http(s) link to what to do, with {@code {target}} and {@code {check}}
 */
public record ThresholdRule(String id, Signal signal, String check, Condition fire, Duration fireFor, MOfN mOfN,
                            int minSamples, Condition recovery, Duration recoveryFor, Severity severity,
                            List<Tier> escalations, String summaryTemplate, Map<String, String> labels,
                            String descriptionTemplate, String runbookTemplate, String kind, Duration warmUp,
                            Staleness stale, Detection detection) {

    public static final String THRESHOLD = "threshold";
    public static final String ERROR_RATE = "error_rate";
    public static final String ABSENCE = "absence";
    public static final String HEALTH = "health";
    public static final String ANOMALY = "anomaly";
    public static final String PREDICTIVE = "predictive";

    /** Signals that stand on several observations (a closed window's checks), where {@code min_samples} applies. */
    public static final Set<Signal> WINDOW_SIGNALS = Collections.unmodifiableSet(
            EnumSet.of(Signal.ERROR_RATE_1M, Signal.LATENCY_P95_MS_1M, Signal.ERROR_RATE_1H));

    /**
     * Signals that come from one check result: each check name of a target is a series of its own, so a failing
     * {@code db} check is not masked by the passing {@code http} check observed in the same poll.
     */
    public static final Set<Signal> PER_CHECK_SIGNALS = Collections.unmodifiableSet(
            EnumSet.of(Signal.CHECK_FAILED, Signal.CHECK_LATENCY_MS));

    public ThresholdRule {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(signal, "signal");
        Objects.requireNonNull(fire, "fire");
        Objects.requireNonNull(fireFor, "fireFor");
        Objects.requireNonNull(recovery, "recovery");
        Objects.requireNonNull(recoveryFor, "recoveryFor");
        Objects.requireNonNull(severity, "severity");
        Objects.requireNonNull(summaryTemplate, "summaryTemplate");
        Objects.requireNonNull(kind, "kind");
        warmUp = warmUp == null ? Duration.ZERO : warmUp;
        if (warmUp.isNegative()) {
            throw new IllegalArgumentException("rule " + id + ": warm-up must not be negative: " + warmUp);
        }
        if (minSamples < 1) {
            throw new IllegalArgumentException("rule " + id + ": min samples must be at least 1: " + minSamples);
        }
        if (mOfN != null && !fireFor.isZero()) {
            throw new IllegalArgumentException("rule " + id + ": M of N and a for duration exclude each other");
        }
        if (check != null && !PER_CHECK_SIGNALS.contains(signal)) {
            throw new IllegalArgumentException("rule " + id + ": signal " + signal + " does not come from a check");
        }
        escalations = List.copyOf(escalations == null ? List.of() : escalations);
        Tier below = new Tier(severity, fire);
        for (Tier tier : escalations) {
            if (tier.severity().compareTo(below.severity()) <= 0 || tier.condition().op() != fire.op()
                    || !fire.op().test(tier.condition().threshold(), below.condition().threshold())) {
                throw new IllegalArgumentException("rule " + id + ": tier " + tier + " is not above " + below);
            }
            below = tier;
        }
        // Sorted, so the fingerprint does not depend on the order labels were written in.
        labels = Collections.unmodifiableSortedMap(new TreeMap<>(labels == null ? Map.of() : labels));
    }

    /** A {@code kind: threshold} rule without warm-up or staleness. */
    public ThresholdRule(String id, Signal signal, String check, Condition fire, Duration fireFor, MOfN mOfN,
                         int minSamples, Condition recovery, Duration recoveryFor, Severity severity,
                         List<Tier> escalations, String summaryTemplate, Map<String, String> labels,
                         String descriptionTemplate, String runbookTemplate) {
        this(id, signal, check, fire, fireFor, mOfN, minSamples, recovery, recoveryFor, severity, escalations,
                summaryTemplate, labels, descriptionTemplate, runbookTemplate, THRESHOLD, Duration.ZERO, null, null);
    }

    /** A rule on every check (or on a signal that has no checks). */
    public ThresholdRule(String id, Signal signal, Condition fire, Duration fireFor, Condition recovery,
                         Duration recoveryFor, Severity severity, String summaryTemplate, Map<String, String> labels) {
        this(id, signal, null, fire, fireFor, null, 1, recovery, recoveryFor, severity, List.of(), summaryTemplate,
                labels, null, null);
    }

    /** The same rule with another firing condition, {@code for}, severity and recovery: an override's variant. */
    public ThresholdRule withDecision(Condition newFire, Duration newFireFor, Severity newSeverity,
                                      Condition newRecovery, Duration newRecoveryFor) {
        return new ThresholdRule(id, signal, check, newFire, newFireFor, mOfN, minSamples, newRecovery, newRecoveryFor,
                newSeverity, escalations, summaryTemplate, labels, descriptionTemplate, runbookTemplate, kind, warmUp,
                stale, detection);
    }

    /**
     * What becomes of a PENDING or FIRING alert whose series has had no value for {@code after} (measured on the
     * task's event time, see {@link AlertEngine#tick}).
     *
     * @param toAbsence false: a FIRING alert resolves (reason "stale") and a PENDING one ends quietly; true: both turn
     *                  into a FIRING "no data" alert under the rule's fingerprint, which the series' next value
     *                  resolves or turns back into the rule's own alert
     */
    public record Staleness(Duration after, boolean toAbsence) {
        public Staleness {
            Objects.requireNonNull(after, "after");
            if (after.isNegative() || after.isZero()) {
                throw new IllegalArgumentException("stale after must be positive: " + after);
            }
        }
    }

    /** A severity and the condition a value must meet for it. */
    public record Tier(Severity severity, Condition condition) {

        @Override
        public String toString() {
            return severity.name().toLowerCase(java.util.Locale.ROOT) + " " + condition;
        }
    }

    /** The highest tier {@code value} meets; the lowest tier when it meets none (a firing alert keeps at least it). */
    public Tier tierFor(double value) {
        for (int i = escalations.size() - 1; i >= 0; i--) {
            if (escalations.get(i).condition().holdsFor(value)) {
                return escalations.get(i);
            }
        }
        return new Tier(severity, fire);
    }

    /**
     * Fire once {@code m} of the last {@code n} values met the firing condition: a flapping signal that fails
     * often enough fires, where {@code for} would restart on every good value.
     */
    public record MOfN(int m, int n) {

        /** The history is a bit mask in the state (one long). */
        public static final int MAX_N = 63;

        public MOfN {
            if (m < 1 || m > n || n > MAX_N) {
                throw new IllegalArgumentException("need 1 <= m <= n <= " + MAX_N + ": " + m + " of " + n);
            }
        }
    }

    /** Whether the rule keeps one state per check name of a target rather than one per target. */
    public boolean perCheck() {
        return PER_CHECK_SIGNALS.contains(signal);
    }

    /** Whether a sample of {@code checkName} (null for samples not from a check) feeds this rule. */
    public boolean selects(String checkName) {
        return check == null || check.equals(checkName);
    }

    /**
     * The summary with {@code {target}}, {@code {check}}, {@code {value}} and {@code {threshold}} filled in; the
     * threshold is that of the tier the value meets.
     */
    public String summary(String targetId, String checkName, double value) {
        return summary(targetId, checkName, value, null);
    }

    /**
     * The summary of a value a {@link #detection()} judged ({@code derived}, null for other rules): {@code {value}}
     * is then the observed value, and the derived placeholders ({@link Derived#fill}) are filled in too.
     */
    public String summary(String targetId, String checkName, double value, Derived derived) {
        return filled(summaryTemplate, targetId, checkName, value, derived);
    }

    /** The description, filled in like the summary; null when the rule has none. */
    public String description(String targetId, String checkName, double value) {
        return description(targetId, checkName, value, null);
    }

    /** The description of a value a {@link #detection()} judged, filled in like its summary. */
    public String description(String targetId, String checkName, double value, Derived derived) {
        return descriptionTemplate == null ? null : filled(descriptionTemplate, targetId, checkName, value, derived);
    }

    /** The runbook link with {@code {target}} and {@code {check}} filled in; null when the rule has none. */
    public String runbook(String targetId, String checkName) {
        return runbookTemplate == null ? null : runbookTemplate
                .replace("{target}", targetId)
                .replace("{check}", checkName == null ? "" : checkName);
    }

    private String filled(String template, String targetId, String checkName, double value, Derived derived) {
        if (derived != null) {
            template = derived.fill(template);
        }
        if (signal == Signal.HEALTH_STATUS) {
            template = template.replace("{status}", HealthScorer.ofRank(value).name());
        }
        return template
                .replace("{target}", targetId)
                .replace("{check}", checkName == null ? "" : checkName)
                .replace("{value}", Numbers.format(value))
                .replace("{threshold}", Numbers.format(tierFor(value).condition().threshold()));
    }

    /**
     * What a resolve says. The firing template describes the problem ("CPU at 97% (over 90%)"), so filling it with
     * the recovered value would read as a contradiction; the resolve names the recovery condition instead.
     */
    public String resolvedSummary(String targetId, String checkName, double value) {
        return resolvedSummary(targetId, checkName, value, null);
    }

    /** The resolve of a value a {@link #detection()} judged ({@code derived}, null for other rules). */
    public String resolvedSummary(String targetId, String checkName, double value, Derived derived) {
        if (derived != null) {
            return targetId + " recovered (" + id + (checkName == null ? "" : ", check " + checkName) + "): "
                    + signal.ruleName() + " " + Numbers.format(derived.observed()) + ", " + derived.recovered(recovery);
        }
        if (signal == Signal.HEALTH_STATUS) {
            return targetId + " recovered (" + id + "): health " + HealthScorer.ofRank(value) + ", below "
                    + HealthScorer.ofRank(fire.threshold());
        }
        return targetId + " recovered (" + id + (checkName == null ? "" : ", check " + checkName) + "): "
                + signal.ruleName() + " " + Numbers.format(value) + " "
                + recovery.op().symbol() + " " + Numbers.format(recovery.threshold());
    }
}
