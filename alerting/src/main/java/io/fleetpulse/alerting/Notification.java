package io.fleetpulse.alerting;

import io.fleetpulse.events.AlertEvent;

/**
 * One alert transition bound for one receiver.
 *
 * @param id stable across retries and restarts: fingerprint, state, transition time and receiver, so a redelivered
 *           AlertEvent maps to the same id and the delivered-set can recognise it
 */
record Notification(String id, AlertEvent event, Receiver receiver) {

    static Notification of(AlertEvent event, Receiver receiver) {
        return new Notification(idOf(event, receiver.name()), event, receiver);
    }

    static String idOf(AlertEvent event, String receiverName) {
        return event.getFingerprint() + "|" + event.getState() + "|" + event.getOccurredAt().toEpochMilli() + "|"
                + receiverName;
    }
}
