package io.fleetpulse.alerting;

import io.fleetpulse.events.AlertEvent;

/**
 * One alert transition bound for one receiver of one deployment.
 *
 * @param id the idempotence key, stable across retries, restarts and redeliveries: fingerprint, state, transition
 *           time, the deployment (consumer group) and the receiver's {@link Receiver#identity() identity}, so a
 *           redelivered AlertEvent maps to the same id, while a second deployment, or the same one pointed at another
 *           Slack URL or routing key, never takes another's delivery for its own
 */
record Notification(String id, AlertEvent event, Receiver receiver) {

    static Notification of(AlertEvent event, String deployment, Receiver receiver) {
        return new Notification(idOf(event, deployment, receiver.identity()), event, receiver);
    }

    static String idOf(AlertEvent event, String deployment, String receiverIdentity) {
        return event.getFingerprint() + "|" + event.getState() + "|" + event.getOccurredAt().toEpochMilli() + "|"
                + deployment + "|" + receiverIdentity;
    }
}
