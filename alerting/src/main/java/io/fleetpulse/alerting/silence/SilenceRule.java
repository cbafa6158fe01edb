package io.fleetpulse.alerting.silence;

import io.fleetpulse.alerting.route.Matcher;
import io.fleetpulse.events.Silence;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One silence as decide and the API use it: the matchers parsed, the weekly windows read. Alertmanager's meaning: an
 * alert whose label set ({@link io.fleetpulse.alerting.route.AlertLabels}) satisfies every matcher is not notified
 * while the silence is active. A one-off silence is active from {@code startsAt} to {@code endsAt}; a maintenance
 * window ({@code weekly}) only inside one of its windows, from {@code startsAt} on and until {@code endsAt} when set.
 * Pure: the time to judge at comes in.
 *
 * @param endsAt  null only for a weekly window without an overall end
 * @param weekly  null for a one-off silence
 */
public record SilenceRule(String id, List<Matcher> matchers, Instant startsAt, Instant endsAt, WeeklyWindows weekly,
                          String createdBy, String comment, Instant updatedAt) {

    /** What {@code GET /v1/silences?state=} and {@code fleetpulse silences list} show. */
    public enum State {
        /** silencing now */
        ACTIVE,
        /** not yet started, or a weekly window between its windows */
        PENDING,
        /** past its end (or expired): history only */
        EXPIRED;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public SilenceRule {
        matchers = List.copyOf(matchers);
    }

    public boolean matches(Map<String, String> alertLabels) {
        return matchers.stream().allMatch(m -> m.matches(alertLabels));
    }

    public State state(Instant now) {
        if (endsAt != null && !now.isBefore(endsAt)) {
            return State.EXPIRED;
        }
        if (now.isBefore(startsAt)) {
            return State.PENDING;
        }
        return weekly == null || weekly.contains(now) ? State.ACTIVE : State.PENDING;
    }

    public boolean isActive(Instant now) {
        return state(now) == State.ACTIVE;
    }

    /** Whether it silences an alert with {@code alertLabels} at {@code now}. */
    public boolean silences(Map<String, String> alertLabels, Instant now) {
        return isActive(now) && matches(alertLabels);
    }

    /** When it is next active at or after {@code now} (a weekly window's next start), if ever. */
    public Optional<Instant> nextActiveAt(Instant now) {
        Instant from = now.isBefore(startsAt) ? startsAt : now;
        Optional<Instant> next = weekly == null ? Optional.of(from) : weekly.nextStart(from);
        return next.filter(at -> endsAt == null || at.isBefore(endsAt));
    }

    /** This silence expired at {@code now}: its end moved to now (kept, as Alertmanager keeps expired silences). */
    public SilenceRule expiredAt(Instant now) {
        Instant end = endsAt != null && endsAt.isBefore(now) ? endsAt : now;
        Instant start = startsAt.isAfter(end) ? end : startsAt;
        return new SilenceRule(id, matchers, start, end, weekly, createdBy, comment, now);
    }

    /** How it names itself in an audit record: id, who and why. */
    public String describe() {
        return "silence " + id + " (" + createdBy + ": " + comment + ")";
    }

    public Silence toAvro() {
        return Silence.newBuilder().setId(id).setMatchers(matchers.stream().map(Matcher::toString).toList())
                .setStartsAt(startsAt).setEndsAt(endsAt).setWeekly(weekly == null ? null : weekly.toAvro())
                .setCreatedBy(createdBy).setComment(comment).setUpdatedAt(updatedAt).build();
    }

    /** @throws IllegalArgumentException when a stored matcher or window cannot be read */
    public static SilenceRule fromAvro(Silence stored) {
        return new SilenceRule(stored.getId(), stored.getMatchers().stream().map(Matcher::parse).toList(),
                stored.getStartsAt(), stored.getEndsAt(),
                stored.getWeekly() == null ? null : WeeklyWindows.fromAvro(stored.getWeekly()),
                stored.getCreatedBy(), stored.getComment(), stored.getUpdatedAt());
    }
}
