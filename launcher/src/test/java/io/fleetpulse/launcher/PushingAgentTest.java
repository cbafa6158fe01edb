package io.fleetpulse.launcher;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class PushingAgentTest {

    @Test
    void shouldWriteOnlyTheTokensHashForTheAgentsOwnTarget() throws Exception {
        PushingAgent.Credentials credentials = PushingAgent.Credentials.generate();
        String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(credentials.token().getBytes(StandardCharsets.UTF_8)));

        assertTrue(credentials.tokensYaml().contains("token-sha256: " + hash), credentials.tokensYaml());
        assertTrue(credentials.tokensYaml().contains("targets: [" + PushingAgent.TARGET_ID + "]"), credentials.tokensYaml());
        assertFalse(credentials.tokensYaml().contains(credentials.token()), "the token itself is never written");
    }

    @Test
    void shouldMakeANewTokenEachRunAndNeverShowIt() {
        PushingAgent.Credentials one = PushingAgent.Credentials.generate();
        PushingAgent.Credentials two = PushingAgent.Credentials.generate();

        assertNotEquals(one.token(), two.token());
        assertTrue(one.token().length() >= 40, "32 random bytes, base64url");
        assertFalse(one.toString().contains(one.token()), one.toString());
    }
}
