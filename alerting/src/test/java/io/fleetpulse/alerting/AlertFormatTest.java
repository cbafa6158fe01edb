package io.fleetpulse.alerting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.fleetpulse.events.AlertEvent;
import io.fleetpulse.events.Evidence;
import io.fleetpulse.runtime.text.Numbers;
import java.net.URI;
import org.junit.jupiter.api.Test;

class AlertFormatTest {

    @Test
    void shouldWriteEvidenceNumbersWithTheOneFormatter() {
        Evidence e = Evidence.newBuilder(TestAlerts.firing("f").getEvidence()).setValue(2.0 / 3).setThreshold(0.5)
                .build();
        assertEquals("cpu_percent 0.6667 > 0.5 over 2024-05-01T12:00:00Z → 2024-05-01T12:01:00Z (6 samples)",
                AlertFormat.evidence(e));
    }

    @Test
    void shouldDescribeEvidenceWithoutAWindowWhenThereIsNone() {
        Evidence absence = Evidence.newBuilder().setSignal("check_up").setValue(0).setOperator("==")
                .setThreshold(0).setSamples(1).build();
        assertEquals("check_up 0 == 0 (1 sample)", AlertFormat.evidence(absence));
    }

    /**
     * The stream processor writes the summary with {@link Numbers#format}; the receivers write the evidence. One
     * Slack message once said 0.6667 in its summary and 0.666667 in its evidence: the same value must read the same.
     */
    @Test
    void shouldWriteTheSameValueTheSameInSummaryAndEvidenceOfEveryReceiver() {
        for (double value : new double[] {2.0 / 3, 0.123456789, 0.00075, 97.5, 90.0, 1_234_567.891, -3, 1e-9}) {
            String shown = Numbers.format(value);
            AlertEvent event = AlertEvent.newBuilder(TestAlerts.firing("fp-number"))
                    .setSummary("error rate " + shown + " above 0.5 for 5m")
                    .setEvidence(Evidence.newBuilder(TestAlerts.firing("f").getEvidence()).setValue(value).build())
                    .build();

            JsonNode slack = SlackReceiver.payload(TestAlerts.single(
                    new SlackReceiver("slack", URI.create("http://unused/")), event));
            String slackEvidence = slack.path("attachments").get(0).path("blocks").get(2).path("fields").get(4)
                    .path("text").asText();
            assertTrue(slack.path("text").asText().contains("error rate " + shown + " above"), slack.toString());
            assertEquals("*Evidence*\ncpu_percent " + shown + " &gt; 90 over", slackEvidence.substring(0,
                    slackEvidence.indexOf(" over") + 5), "value " + value);

            JsonNode pagerDuty = PagerDutyReceiver.payload(event, "key").path("payload");
            assertTrue(pagerDuty.path("summary").asText().contains("error rate " + shown + " above"), pagerDuty.toString());
            assertTrue(pagerDuty.path("custom_details").path("evidence_text").asText()
                    .startsWith("cpu_percent " + shown + " > 90 "), pagerDuty.toString());
        }
    }
}
