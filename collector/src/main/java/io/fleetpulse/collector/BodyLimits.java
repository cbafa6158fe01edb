package io.fleetpulse.collector;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * How much of one target's answer the collector reads and keeps, so that one hostile or broken target can neither
 * exhaust memory, stall the poll event loop, nor flood the topics: a capped body, a capped number of checks per
 * poll, capped names and a capped open map of extra metrics.
 *
 * @param maxBodyBytes    bytes of a body read at most ({@code collector.poll.max.body.bytes})
 * @param maxChecks       checks and components of one health body published at most ({@code collector.health.max.checks})
 * @param maxNameLength   characters of a check or metric name ({@code collector.max.name.length})
 * @param maxExtraMetrics entries of {@code MetricSample.extra} ({@code collector.metrics.max.extra})
 */
record BodyLimits(int maxBodyBytes, int maxChecks, int maxNameLength, int maxExtraMetrics) {

    static final BodyLimits DEFAULTS = new BodyLimits(256 * 1024, 64, 100, 100);

    /**
     * Parses bodies on the event loop: that is safe only because the body is capped and the parser is linear in its
     * input with these limits (no deep nesting, no huge numbers, whose parse is not linear), so the worst body costs
     * a bounded, small time.
     */
    static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(32)
                    .maxNumberLength(100)
                    .build())
            .build());
}
