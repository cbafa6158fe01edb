package io.fleetpulse.alerting.route;

import java.net.URI;

/**
 * A receiver as the routing file declares it, its secrets already read from the environment or a secret file.
 *
 * @param url        the Slack or webhook URL (a secret), or the PagerDuty Events API endpoint (not one)
 * @param routingKey PagerDuty's routing key; null for the other kinds
 */
public record ReceiverSpec(String name, Kind kind, URI url, String routingKey) {

    public enum Kind { SLACK, PAGERDUTY, WEBHOOK }

    @Override
    public String toString() {
        return name + " (" + kind.name().toLowerCase(java.util.Locale.ROOT) + ")";
    }
}
