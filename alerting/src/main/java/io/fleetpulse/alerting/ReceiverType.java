package io.fleetpulse.alerting;

import java.util.Locale;

/** The kinds of receiver; {@link #id()} is what NotificationRecord.receiverType, meters and /status use. */
public enum ReceiverType {
    SLACK, PAGERDUTY, WEBHOOK;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
