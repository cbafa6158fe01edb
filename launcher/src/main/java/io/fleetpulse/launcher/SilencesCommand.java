package io.fleetpulse.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code fleetpulse silences}: silences and maintenance windows through an alerting instance's silences API (any
 * instance answers for all: they all read fleet.silences). A bad silence is a usage error (2) naming each field the
 * API refused; an API that cannot be reached or fails is a failure (1), one line each.
 */
@Command(name = "silences", mixinStandardHelpOptions = true,
        description = "Silences and recurring maintenance windows, through the alerting silences API: add, list, expire.",
        subcommands = {SilencesCommand.Add.class, SilencesCommand.ListSilences.class, SilencesCommand.Expire.class})
final class SilencesCommand implements Callable<Integer> {

    /** Where alerting.api.port = 9094 puts the API on this machine. */
    static final String DEFAULT_URL = "http://localhost:9094";
    private static final ObjectMapper JSON = new ObjectMapper();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        return FleetPulseCli.usageError(spec);
    }

    /** The API, shared by every subcommand. */
    static final class Api {

        @Option(names = "--url", defaultValue = DEFAULT_URL,
                description = "an alerting instance's silences API (alerting.api.host/port; default ${DEFAULT-VALUE})")
        String url;

        @Option(names = "--timeout", defaultValue = "15s", description = "how long one request may take (default ${DEFAULT-VALUE})")
        Duration timeout;

        /** The answer's status and JSON body; an unreachable API is an {@link ApiException}. */
        Answer call(String method, String path, JsonNode body) {
            URI uri = URI.create(url.replaceAll("/+$", "") + "/v1/silences" + path);
            HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(timeout)
                    .header("Accept", "application/json")
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofString(body.toString()));
            if (body != null) {
                request.header("Content-Type", "application/json");
            }
            try {
                HttpResponse<String> response = HttpClient.newBuilder().connectTimeout(timeout).build()
                        .send(request.build(), HttpResponse.BodyHandlers.ofString());
                JsonNode json;
                try {
                    json = JSON.readTree(response.body());
                } catch (IOException e) {
                    throw new ApiException("the alerting API at " + url + " answered " + response.statusCode()
                            + " with no JSON: " + abbreviate(response.body()));
                }
                return new Answer(response.statusCode(), json);
            } catch (IOException e) {
                throw new ApiException("cannot reach the alerting API at " + url + " (" + e.getClass().getSimpleName()
                        + (e.getMessage() == null ? "" : ": " + e.getMessage()) + "); is alerting running with "
                        + "alerting.api.port set? (--url names another)");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ApiException("interrupted");
            }
        }
    }

    record Answer(int status, JsonNode body) {
    }

    static final class ApiException extends RuntimeException {
        ApiException(String message) {
            super(message);
        }
    }

    /** Runs {@code body}: a refused silence exits 2, an unreachable or failing API 1, each with one line per problem. */
    private static int run(CommandLine.Model.CommandSpec spec, Callable<Integer> body) throws Exception {
        try {
            return body.call();
        } catch (ApiException e) {
            spec.commandLine().getErr().println(spec.qualifiedName() + ": " + e.getMessage());
            return 1;
        }
    }

    /** Any answer but {@code expected}: 400 prints each refused field (exit 2), anything else its error (exit 1). */
    private static int refused(CommandLine.Model.CommandSpec spec, Answer answer) {
        PrintWriter err = spec.commandLine().getErr();
        JsonNode errors = answer.body().path("errors");
        if (answer.status() == 400 && errors.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = errors.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                err.println(spec.qualifiedName() + ": " + field.getKey() + ": " + field.getValue().asText());
            }
            return 2;
        }
        err.println(spec.qualifiedName() + ": the alerting API answered " + answer.status() + ": "
                + answer.body().path("error").asText(answer.body().toString()));
        return 1;
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = {"Adds a silence: alerts matching every --matcher are not notified while it is active.",
                    "Give its time as --duration (from now, or from --starts), as --starts/--ends, or as a weekly"
                            + " maintenance window: --weekly 'Sat 22:00-Sun 02:00' --zone Europe/Berlin (optionally"
                            + " from --starts until --ends). Prints the new silence's id."})
    static final class Add implements Callable<Integer> {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        Api api;

        @Option(names = "--matcher", required = true, paramLabel = "MATCHER",
                description = "as in routes: name=\"v\", name!=\"v\", name=~\"re\", name!~\"re\" on the labels, rule, "
                        + "target, group, severity; repeat for more (all must hold)")
        List<String> matchers = new ArrayList<>();

        @Option(names = "--duration", description = "how long, e.g. 2h, from now (or from --starts)")
        Duration duration;

        @Option(names = "--starts", paramLabel = "TIME", description = "start, e.g. 2026-12-05T21:00:00Z (default now)")
        Instant starts;

        @Option(names = "--ends", paramLabel = "TIME", description = "end, e.g. 2026-12-05T23:00:00Z")
        Instant ends;

        @Option(names = "--weekly", paramLabel = "WINDOWS",
                description = "recurring windows, e.g. 'Sat 22:00-Sun 02:00' or 'Mon-Fri 02:00-04:00'; needs --zone")
        String weekly;

        @Option(names = "--zone", description = "IANA time zone of --weekly, e.g. Europe/Berlin")
        String zone;

        @Option(names = "--created-by", required = true, paramLabel = "WHO")
        String createdBy;

        @Option(names = "--comment", required = true, description = "why (shown in the audit of what it silenced)")
        String comment;

        @Override
        public Integer call() throws Exception {
            String problem = timeProblem();
            if (problem != null) {
                spec.commandLine().getErr().println(spec.qualifiedName() + ": " + problem + "; see '"
                        + spec.qualifiedName() + " --help'");
                return 2;
            }
            return run(spec, () -> {
                ObjectNode body = JSON.createObjectNode();
                matchers.forEach(body.putArray("matchers")::add);
                Instant start = starts != null ? starts : Instant.now();
                if (starts != null) {
                    body.put("startsAt", starts.toString());
                }
                if (duration != null) {
                    body.put("endsAt", start.plus(duration).toString());
                } else if (ends != null) {
                    body.put("endsAt", ends.toString());
                }
                if (weekly != null) {
                    body.putObject("weekly").put("schedule", weekly).put("zone", zone);
                }
                body.put("createdBy", createdBy);
                body.put("comment", comment);
                Answer answer = api.call("POST", "", body);
                if (answer.status() != 201) {
                    return refused(spec, answer);
                }
                spec.commandLine().getOut().println(answer.body().path("id").asText());
                return 0;
            });
        }

        private String timeProblem() {
            if (weekly != null) {
                if (zone == null) {
                    return "--weekly needs --zone (an IANA time zone, e.g. Europe/Berlin)";
                }
                return duration != null ? "--weekly takes --ends (its overall end), not --duration" : null;
            }
            if (zone != null) {
                return "--zone goes with --weekly";
            }
            if ((duration == null) == (ends == null)) {
                return "give exactly one of --duration, --ends (with --starts) or --weekly";
            }
            return null;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Lists the silences: id, state (active, pending, expired), when, matchers, who and why.")
    static final class ListSilences implements Callable<Integer> {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        Api api;

        @Option(names = "--state", paramLabel = "STATES",
                description = "only these, comma-separated: active, pending, expired (default: all)")
        String state;

        @Override
        public Integer call() throws Exception {
            return run(spec, () -> {
                Answer answer = api.call("GET", state == null ? ""
                        : "?state=" + URLEncoder.encode(state, StandardCharsets.UTF_8), null);
                if (answer.status() != 200) {
                    return refused(spec, answer);
                }
                PrintWriter out = spec.commandLine().getOut();
                for (JsonNode silence : answer.body().path("silences")) {
                    List<String> matchers = new ArrayList<>();
                    silence.path("matchers").forEach(m -> matchers.add(m.asText()));
                    out.printf("%-36s %-8s %-50s %-40s %s: %s%n", silence.path("id").asText(),
                            silence.path("state").asText(), when(silence), String.join(",", matchers),
                            silence.path("createdBy").asText(), silence.path("comment").asText());
                }
                out.flush();
                return 0;
            });
        }

        private static String when(JsonNode silence) {
            String end = silence.path("endsAt").isTextual() ? silence.path("endsAt").asText() : null;
            if (silence.has("weekly")) {
                JsonNode weekly = silence.get("weekly");
                return weekly.path("schedule").asText() + " " + weekly.path("zone").asText()
                        + (end == null ? "" : " until " + end);
            }
            return silence.path("startsAt").asText() + " -> " + end;
        }
    }

    @Command(name = "expire", mixinStandardHelpOptions = true,
            description = "Expires a silence now: it stops silencing and stays listed as expired.")
    static final class Expire implements Callable<Integer> {

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        Api api;

        @Parameters(paramLabel = "ID")
        String id;

        @Override
        public Integer call() throws Exception {
            return run(spec, () -> {
                Answer answer = api.call("DELETE", "/" + URLEncoder.encode(id, StandardCharsets.UTF_8), null);
                if (answer.status() != 200) {
                    return refused(spec, answer);
                }
                spec.commandLine().getOut().println("expired " + id);
                return 0;
            });
        }
    }

    private static String abbreviate(String text) {
        return text.length() <= 200 ? text : text.substring(0, 200) + "…";
    }
}
