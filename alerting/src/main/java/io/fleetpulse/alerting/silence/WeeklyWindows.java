package io.fleetpulse.alerting.silence;

import io.fleetpulse.events.WeeklySchedule;
import io.fleetpulse.events.WeeklyWindow;
import java.time.DateTimeException;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.TemporalAdjusters;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A recurring weekly maintenance window in an IANA time zone: one or more spans, each from a day and local time to
 * the next given day and local time, e.g. {@code Sat 22:00-Sun 02:00} or {@code Mon-Fri 02:00-04:00} (five spans).
 *
 * <p>Times are wall-clock times in {@code zone}, so a window keeps its local hours across daylight saving: on the
 * night the clocks go forward {@code Sat 22:00-Sun 04:00} in Europe/Berlin is one hour shorter in real time, and one
 * hour longer on the night they go back. A local time that does not exist (in the spring gap) is taken as the first
 * instant after the gap; one that exists twice (the autumn overlap) as its first occurrence. Pure: time comes in.
 */
public record WeeklyWindows(ZoneId zone, List<Span> spans) {

    private static final DateTimeFormatter HH_MM = DateTimeFormatter.ofPattern("HH:mm");
    private static final Pattern DAY_SPAN = Pattern.compile("(\\w+)\\s+(\\d{1,2}:\\d{2})\\s*-\\s*(\\w+)\\s+(\\d{1,2}:\\d{2})");
    private static final Pattern DAYS_RANGE = Pattern.compile("([\\w,-]+)\\s+(\\d{1,2}:\\d{2})\\s*-\\s*(\\d{1,2}:\\d{2})");

    /** From {@code startDay startTime} to the first {@code endDay endTime} after it (at most a week later). */
    public record Span(DayOfWeek startDay, LocalTime startTime, DayOfWeek endDay, LocalTime endTime) {

        @Override
        public String toString() {
            return day(startDay) + " " + HH_MM.format(startTime) + "-" + day(endDay) + " " + HH_MM.format(endTime);
        }
    }

    public WeeklyWindows {
        spans = List.copyOf(spans);
        if (spans.isEmpty()) {
            throw new IllegalArgumentException("a weekly schedule needs at least one window");
        }
    }

    /**
     * Parses windows separated by {@code ,} or {@code ;}: {@code DAY HH:MM-DAY HH:MM} (e.g. {@code Sat 22:00-Sun 02:00})
     * or {@code DAYS HH:MM-HH:MM} where DAYS is a day, a list {@code Mon,Wed} or a range {@code Mon-Fri}, each day's
     * window ending that day, or the next day when the end is not after the start ({@code Fri 22:00-02:00}).
     *
     * @throws IllegalArgumentException saying what is wrong
     */
    public static WeeklyWindows parse(String text, String zoneId) {
        ZoneId zone;
        try {
            zone = ZoneId.of(zoneId == null ? "" : zoneId.strip());
        } catch (DateTimeException e) {
            throw new IllegalArgumentException("'" + zoneId + "' is not an IANA time zone (e.g. Europe/Berlin, UTC)");
        }
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("the weekly schedule is empty; e.g. 'Sat 22:00-Sun 02:00'");
        }
        List<Span> spans = new ArrayList<>();
        // ';' always separates windows; ',' does after a time ("Sat 22:00-Sun 02:00, Mon 01:00-02:00"), not in a
        // list of days ("Mon,Wed 02:00-04:00")
        for (String part : text.split(";|(?<=\\d)\\s*,")) {
            spans.addAll(parseOne(part.strip()));
        }
        return new WeeklyWindows(zone, spans);
    }

    private static List<Span> parseOne(String text) {
        java.util.regex.Matcher span = DAY_SPAN.matcher(text);
        if (span.matches()) {
            return List.of(new Span(day(span.group(1), text), time(span.group(2), text), day(span.group(3), text),
                    time(span.group(4), text)));
        }
        java.util.regex.Matcher range = DAYS_RANGE.matcher(text);
        if (!range.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a weekly window: expected e.g. "
                    + "'Sat 22:00-Sun 02:00' or 'Mon-Fri 02:00-04:00'");
        }
        LocalTime start = time(range.group(2), text);
        LocalTime end = time(range.group(3), text);
        List<Span> spans = new ArrayList<>();
        for (DayOfWeek day : days(range.group(1), text)) {
            spans.add(new Span(day, start, end.isAfter(start) ? day : day.plus(1), end));
        }
        return spans;
    }

    private static List<DayOfWeek> days(String text, String whole) {
        List<DayOfWeek> days = new ArrayList<>();
        for (String item : text.split(",")) {
            String[] ends = item.split("-");
            if (ends.length == 1) {
                days.add(day(ends[0], whole));
            } else if (ends.length == 2) {
                DayOfWeek from = day(ends[0], whole);
                DayOfWeek to = day(ends[1], whole);
                for (DayOfWeek d = from; ; d = d.plus(1)) {
                    days.add(d);
                    if (d == to) {
                        break;
                    }
                }
            } else {
                throw new IllegalArgumentException("'" + item + "' in '" + whole + "' is not a day or a day range");
            }
        }
        return days;
    }

    private static DayOfWeek day(String text, String whole) {
        String wanted = text.strip().toUpperCase(Locale.ROOT);
        if (wanted.length() >= 3) {
            for (DayOfWeek day : DayOfWeek.values()) {
                if (day.name().startsWith(wanted)) {
                    return day;
                }
            }
        }
        throw new IllegalArgumentException("'" + text + "' in '" + whole + "' is not a day of the week (Mon .. Sun)");
    }

    private static LocalTime time(String text, String whole) {
        try {
            return LocalTime.parse(text.length() == 4 ? "0" + text : text, HH_MM);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("'" + text + "' in '" + whole + "' is not a time HH:MM (00:00 .. 23:59)");
        }
    }

    private static String day(DayOfWeek day) {
        String name = day.name();
        return name.charAt(0) + name.substring(1, 3).toLowerCase(Locale.ROOT);
    }

    /** Whether {@code at} lies inside one of the windows (start included, end excluded). */
    public boolean contains(Instant at) {
        return windowAround(at).isPresent();
    }

    /** The window occurrence holding {@code at}, as [start, end) instants. */
    public Optional<Instant[]> windowAround(Instant at) {
        ZonedDateTime local = at.atZone(zone);
        for (Span span : spans) {
            // a span lasts at most a week, so the occurrence holding `at` started this week or the one before
            for (int weeksBack = 0; weeksBack <= 1; weeksBack++) {
                LocalDateTime start = local.toLocalDate().minusWeeks(weeksBack)
                        .with(TemporalAdjusters.previousOrSame(span.startDay)).atTime(span.startTime);
                Instant from = ZonedDateTime.of(start, zone).toInstant();
                Instant to = ZonedDateTime.of(endAfter(start, span), zone).toInstant();
                if (!at.isBefore(from) && at.isBefore(to)) {
                    return Optional.of(new Instant[] {from, to});
                }
            }
        }
        return Optional.empty();
    }

    /** The first instant at or after {@code from} inside a window, looking at most two weeks ahead; empty if none. */
    public Optional<Instant> nextStart(Instant from) {
        if (contains(from)) {
            return Optional.of(from);
        }
        ZonedDateTime local = from.atZone(zone);
        Instant best = null;
        for (Span span : spans) {
            for (int weeks = 0; weeks <= 1; weeks++) {
                LocalDateTime start = local.toLocalDate().plusWeeks(weeks)
                        .with(TemporalAdjusters.nextOrSame(span.startDay)).atTime(span.startTime);
                Instant at = ZonedDateTime.of(start, zone).toInstant();
                if (at.isAfter(from) && (best == null || at.isBefore(best))) {
                    best = at;
                }
            }
        }
        return Optional.ofNullable(best);
    }

    private static LocalDateTime endAfter(LocalDateTime start, Span span) {
        LocalDateTime end = start.toLocalDate().with(TemporalAdjusters.nextOrSame(span.endDay)).atTime(span.endTime);
        return end.isAfter(start) ? end : end.plusWeeks(1);
    }

    /** The windows as {@link #parse} reads them, e.g. {@code Sat 22:00-Sun 02:00}. */
    public String describe() {
        return String.join(", ", spans.stream().map(Span::toString).toList());
    }

    public WeeklySchedule toAvro() {
        return WeeklySchedule.newBuilder().setZone(zone.getId()).setWindows(spans.stream()
                .map(s -> WeeklyWindow.newBuilder().setStartDay(s.startDay.name()).setStartTime(HH_MM.format(s.startTime))
                        .setEndDay(s.endDay.name()).setEndTime(HH_MM.format(s.endTime)).build())
                .toList()).build();
    }

    /** @throws IllegalArgumentException when the stored schedule is not valid */
    public static WeeklyWindows fromAvro(WeeklySchedule stored) {
        List<Span> spans = new ArrayList<>();
        for (WeeklyWindow w : stored.getWindows()) {
            String whole = w.toString();
            spans.add(new Span(day(w.getStartDay(), whole), time(w.getStartTime(), whole), day(w.getEndDay(), whole),
                    time(w.getEndTime(), whole)));
        }
        try {
            return new WeeklyWindows(ZoneId.of(stored.getZone()), spans);
        } catch (DateTimeException e) {
            throw new IllegalArgumentException("'" + stored.getZone() + "' is not an IANA time zone");
        }
    }
}
