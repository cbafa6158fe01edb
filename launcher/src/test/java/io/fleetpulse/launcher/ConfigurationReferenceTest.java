package io.fleetpulse.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ConfigurationReferenceTest {

    private static final Path DOC = Path.of("..", "docs", "configuration.md");

    /** Regenerate with {@code ./fleetpulse config-reference > docs/configuration.md} (or -Dfleetpulse.docs.update=true). */
    @Test
    void shouldKeepDocsConfigurationMdInStepWithTheKeyDeclarations() throws Exception {
        String generated = ConfigReference.markdown();
        if (Boolean.getBoolean("fleetpulse.docs.update")) {
            Files.writeString(DOC, generated);
        }
        assertEquals(generated, Files.readString(DOC),
                "docs/configuration.md is out of date: run ./fleetpulse config-reference > docs/configuration.md");
    }

    @Test
    void shouldListEveryKeyOfEveryService() {
        String generated = ConfigReference.markdown();
        for (ServiceKind kind : ServiceKind.values()) {
            kind.keys().forEach(key -> assertTrue(generated.contains("| `" + key.name() + "` |"), key.name()));
        }
    }
}
