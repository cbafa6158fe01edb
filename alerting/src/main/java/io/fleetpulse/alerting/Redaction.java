package io.fleetpulse.alerting;

import java.net.URI;

/** Keeps receiver secrets (Slack webhook tokens, routing keys, tokens in webhook URLs) out of logs and /status. */
final class Redaction {

    static final String MASK = "****";

    private Redaction() {
    }

    /**
     * Shows only where a URL points ({@code https://hooks.slack.com/****}): Slack and many webhooks carry their token
     * in the path, others in the query or user info, so nothing past the authority is shown.
     */
    static String maskUrl(String url) {
        try {
            URI uri = URI.create(url.strip());
            if (uri.getScheme() == null || uri.getHost() == null) {
                return MASK;
            }
            String port = uri.getPort() < 0 ? "" : ":" + uri.getPort();
            boolean more = (uri.getRawPath() != null && !uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/"))
                    || uri.getRawQuery() != null || uri.getRawUserInfo() != null;
            return uri.getScheme() + "://" + uri.getHost() + port + (more ? "/" + MASK : "");
        } catch (IllegalArgumentException e) {
            return MASK;
        }
    }

    /**
     * {@code text} with every occurrence of each secret replaced by the mask. Fragments shorter than four characters
     * (a bare "/" path) are skipped: masking them would garble the text without hiding anything.
     */
    static String redact(String text, String... secrets) {
        if (text == null) {
            return null;
        }
        String out = text;
        for (String secret : secrets) {
            if (secret != null && secret.length() >= 4) {
                out = out.replace(secret, MASK);
            }
        }
        return out;
    }
}
