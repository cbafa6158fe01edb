package io.fleetpulse.simulator;

/**
 * A way a server answers that a collector must survive: {@link SimulatedFleet#setHostile} makes a virtual server
 * answer both its endpoints like this until cleared. Each is what broken or hostile real targets do.
 */
public enum Hostility {
    /** 200 and headers at once, then one byte of body per {@link SimulatedFleet#TRICKLE_PERIOD}, never ending. */
    SLOW_BODY,
    /** 200 and a chunked body of {@link SimulatedFleet#HUGE_BODY_BYTES} (no Content-Length), streamed as fast as read. */
    HUGE_BODY,
    /** 200 with an HTML page instead of JSON (a proxy's or web server's default page). */
    HTML,
    /** 500 with an HTML error page. */
    SERVER_ERROR,
    /** 302 to the very URL asked for, for ever. */
    REDIRECT_LOOP,
    /** 200 with an actuator-style body of {@link SimulatedFleet#MANY_COMPONENTS} components. */
    MANY_COMPONENTS,
    /** 200 with checks whose names are {@link SimulatedFleet#HUGE_NAME_LENGTH} characters long. */
    HUGE_NAMES,
    /** 200 with values that are not numbers where numbers belong (metrics) or statuses (health). */
    INVALID_NUMBERS
}
