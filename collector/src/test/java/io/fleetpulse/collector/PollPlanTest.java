package io.fleetpulse.collector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The plan on a time line moved by hand, one millisecond at a time where it matters. */
class PollPlanTest {

    @Test
    void shouldSpreadFirstStartsOverTheFirstInterval() {
        PollPlan<Integer> plan = new PollPlan<>(0.1, new SplittableRandom(1));
        for (int i = 0; i < 1000; i++) {
            plan.add(i, 10_000, 0);
        }

        assertTrue(plan.takeDue(0).isEmpty(), "nothing is due at the very start");
        int[] perSecond = new int[10];
        for (PollPlan.Due<Integer> due : plan.takeDue(10_000)) {
            assertTrue(due.plannedMs() > 0 && due.plannedMs() <= 10_000, "planned " + due.plannedMs());
            perSecond[(int) ((due.plannedMs() - 1) / 1000)]++;
        }
        for (int second = 0; second < 10; second++) {
            assertTrue(perSecond[second] > 50, "second " + second + " has " + perSecond[second] + " of 1000 first starts");
        }
    }

    @Test
    void shouldJitterEveryCycleWithoutDrift() {
        PollPlan<String> plan = new PollPlan<>(0.1, new SplittableRandom(7));
        plan.add("a", 1000, 0);

        List<Long> starts = run(plan, 100_000);

        List<Long> gaps = new ArrayList<>();
        for (int i = 1; i < starts.size(); i++) {
            gaps.add(starts.get(i) - starts.get(i - 1));
        }
        assertTrue(gaps.stream().allMatch(g -> g >= 800 && g <= 1200), gaps.toString());
        assertTrue(new HashSet<>(gaps.subList(10, gaps.size())).size() > 20, "later cycles are jittered too: " + gaps);
        assertTrue(starts.size() >= 99 && starts.size() <= 101, "once per interval on average: " + starts.size());
        long anchor = starts.get(0);
        for (int k = 0; k < starts.size(); k++) {
            assertTrue(Math.abs(starts.get(k) - (anchor + k * 1000L)) <= 200, "start " + k + " drifted: " + starts.get(k));
        }
    }

    @Test
    void shouldKeepAnExactIntervalWithoutJitter() {
        PollPlan<String> plan = new PollPlan<>(0, new SplittableRandom(7));
        plan.add("a", 250, 0);

        List<Long> starts = run(plan, 5_000);

        for (int i = 1; i < starts.size(); i++) {
            assertEquals(250, starts.get(i) - starts.get(i - 1));
        }
    }

    @Test
    void shouldHandOutTheMostOverdueFirst() {
        PollPlan<Integer> plan = new PollPlan<>(0.1, new SplittableRandom(3));
        for (int i = 0; i < 50; i++) {
            plan.add(i, 1000 + i * 100L, 0);
        }

        List<PollPlan.Due<Integer>> due = plan.takeDue(60_000);

        assertEquals(50, due.size());
        for (int i = 1; i < due.size(); i++) {
            assertTrue(due.get(i - 1).plannedMs() <= due.get(i).plannedMs(), "ordered by planned start");
        }
    }

    @Test
    void shouldNotBurstMissedStartsAfterAStall() {
        PollPlan<String> plan = new PollPlan<>(0.1, new SplittableRandom(5));
        plan.add("a", 1000, 0);
        run(plan, 3_000);

        List<PollPlan.Due<String>> afterStall = plan.takeDue(60_000);

        assertEquals(1, afterStall.size(), "one start, not the fifty-odd missed ones");
        assertTrue(plan.nextDueMs() > 60_000 && plan.nextDueMs() <= 61_200, "next at " + plan.nextDueMs());
    }

    @Test
    void shouldRefuseAJitterOverHalfTheInterval() {
        assertThrows(IllegalArgumentException.class, () -> new PollPlan<>(0.6, new SplittableRandom()));
    }

    /** Moves time one millisecond at a time up to {@code untilMs}; returns the planned starts handed out. */
    private static <T> List<Long> run(PollPlan<T> plan, long untilMs) {
        List<Long> starts = new ArrayList<>();
        for (long now = 0; now <= untilMs; now++) {
            plan.takeDue(now).forEach(d -> starts.add(d.plannedMs()));
        }
        return starts;
    }
}
