package io.fleetpulse.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The parent pom's {@code service-module-boundaries} rule, proved on a copy of the repository's poms.
 *
 * <p>Only the poms are copied: {@code validate} needs no sources. The copy gets a version that no local repository
 * holds, so sibling modules can only resolve from the reactor, exactly as on a fresh clone; a stale
 * {@code ~/.m2} could otherwise make the check pass or fail for the wrong reason. It lives here because the
 * launcher is the one module that sees every service; it is an IT because it starts Maven.
 */
class ModuleBoundaryIT {

    private static final String RULE =
            "FleetPulse module boundary: service modules meet only through topics and tables";
    private static final String COPY_VERSION = "0.0.0-BOUNDARY-CHECK-SNAPSHOT";
    private static final Duration MAVEN_TIMEOUT = Duration.ofMinutes(3);
    private static final Set<String> SKIPPED_DIRECTORIES = Set.of("target", ".git", ".fleetpulse", "node_modules");

    @TempDir
    Path copy;

    @BeforeEach
    void copyThePoms() throws IOException {
        Path root = repositoryRoot();
        String version = projectVersion(Files.readString(root.resolve("pom.xml")));
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                return SKIPPED_DIRECTORIES.contains(dir.getFileName().toString())
                        ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (file.getFileName().toString().equals("pom.xml")) {
                    Path target = copy.resolve(root.relativize(file).toString());
                    Files.createDirectories(target.getParent());
                    Files.writeString(target, Files.readString(file)
                            .replace("<version>" + version + "</version>", "<version>" + COPY_VERSION + "</version>"));
                }
                return FileVisitResult.CONTINUE;
            }
        });
        assertTrue(Files.exists(copy.resolve("collector/pom.xml")), "no collector pom copied from " + root);
    }

    @Test
    void shouldValidateTheRepositoryAsItIs() throws Exception {
        MavenRun run = validate();

        assertEquals(0, run.exit(), run.output());
    }

    @Test
    void shouldFailValidateWhenAServiceDependsOnAnotherService() throws Exception {
        addDependency("collector", "sink");

        MavenRun run = validate();

        assertNotEquals(0, run.exit(), run.output());
        assertTrue(run.output().contains(RULE), run.output());
        assertTrue(run.output().contains("collector must not depend on"), run.output());
        assertTrue(run.output().contains("io.fleetpulse:sink:jar:" + COPY_VERSION + " <--- banned"), run.output());
    }

    @Test
    void shouldFailValidateWhenAServiceReachesAnotherServiceThroughALibraryInTestScope() throws Exception {
        // The simulator is a library, so depending on a service is allowed for it; the collector uses the simulator
        // in test scope and so reaches the stream processor transitively, which is not.
        addDependency("simulator", "stream-processor");

        MavenRun run = validate();

        assertNotEquals(0, run.exit(), run.output());
        assertTrue(run.output().contains(RULE), run.output());
        assertTrue(run.output().contains("on project collector"), run.output());
        assertFalse(run.output().contains("on project simulator"), run.output());
        assertTrue(run.output().contains("io.fleetpulse:stream-processor:jar:" + COPY_VERSION + " <--- banned"),
                run.output());
    }

    private void addDependency(String module, String artifactId) throws IOException {
        Path pom = copy.resolve(module).resolve("pom.xml");
        String text = Files.readString(pom);
        int at = text.indexOf("<dependencies>");
        assertTrue(at >= 0 && !text.substring(0, at).contains("<dependencyManagement>"),
                "no project <dependencies> in " + pom);
        String dependency = "<dependency><groupId>io.fleetpulse</groupId><artifactId>" + artifactId
                + "</artifactId><version>${project.version}</version></dependency>";
        int end = at + "<dependencies>".length();
        Files.writeString(pom, text.substring(0, end) + dependency + text.substring(end));
    }

    private MavenRun validate() throws IOException, InterruptedException {
        Path log = copy.resolve("maven.log");
        ProcessBuilder builder = new ProcessBuilder(List.of("mvn", "-B", "-o", "-q", "-ntp", "-Dstyle.color=never",
                "validate"))
                .directory(copy.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        // Maven 3.8's jansi writes ESC[0m at exit even in batch mode unless told not to.
        builder.environment().merge("MAVEN_OPTS", "-Djansi.noreset=true", (old, add) -> old + " " + add);
        Process maven = builder.start();
        if (!maven.waitFor(MAVEN_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            maven.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            fail("mvn validate did not finish within " + MAVEN_TIMEOUT + ":\n" + Files.readString(log));
        }
        return new MavenRun(maven.exitValue(), Files.readString(log));
    }

    private static Path repositoryRoot() {
        // Failsafe runs with the launcher module as basedir; an IDE usually does the same.
        Path module = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath();
        Path root = module.getParent();
        assertTrue(Files.exists(root.resolve("pom.xml")) && Files.exists(root.resolve("launcher/pom.xml")),
                "cannot find the repository root above " + module);
        return root;
    }

    private static String projectVersion(String rootPom) {
        // The root pom has no parent, so its first <version> is the project's own.
        Matcher version = Pattern.compile("<version>([^<]+)</version>").matcher(rootPom);
        assertTrue(version.find(), "no version in the root pom");
        return version.group(1);
    }

    private record MavenRun(int exit, String output) {
    }
}
