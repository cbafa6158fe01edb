package io.fleetpulse.alerting.route;

import io.fleetpulse.runtime.yaml.YamlFileException;
import io.fleetpulse.runtime.yaml.YamlNode;
import io.fleetpulse.runtime.yaml.YamlReader;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The routing file (Alertmanager's shape, FleetPulse's secrets): the receivers, the tree of routes that decides who
 * gets an alert and how alerts are grouped, and the inhibition rules. Matching is a pure function of the alert's
 * {@link AlertLabels label set}.
 *
 * <pre>{@code
 * receivers:
 *   - {name: team-slack, kind: slack, url_env: TEAM_SLACK_URL}
 *   - {name: oncall, kind: pagerduty, routing_key_file: /run/secrets/pd-key}
 * route:
 *   receiver: team-slack
 *   group_by: [group, rule]
 *   routes:
 *     - {matchers: ['severity="critical"'], receiver: oncall, group_by: [target], continue: true}
 * inhibit_rules:
 *   - {source_matchers: ['rule="target-down"'], target_matchers: ['rule!="target-down"'], equal: [target]}
 * }</pre>
 *
 * Secrets (Slack and webhook URLs, routing keys, webhook signing secrets) are never written in the file:
 * {@code url_env} / {@code url_file}, {@code routing_key_env} / {@code routing_key_file},
 * {@code signing_secret_env} / {@code signing_secret_file} name the environment variable or the secret file holding
 * them.
 */
public final class RoutingTree {

    /** Where PagerDuty receivers send unless the file says {@code url}. */
    public static final URI PAGERDUTY_EVENTS = URI.create("https://events.pagerduty.com/v2/enqueue");

    private static final String GROUP_ALL = "...";

    private final Route root;
    private final List<ReceiverSpec> receivers;
    private final List<InhibitRule> inhibitRules;

    private RoutingTree(Route root, List<ReceiverSpec> receivers, List<InhibitRule> inhibitRules) {
        this.root = root;
        this.receivers = List.copyOf(receivers);
        this.inhibitRules = List.copyOf(inhibitRules);
    }

    /**
     * Without a routing file: every alert to every receiver, each transition its own group ({@code group_by: [...]}),
     * notified at once ({@code group_wait: 0}) and again on every change ({@code group_interval: 0}), never repeated.
     */
    public static RoutingTree everyReceiver(List<String> receiverNames) {
        Route.Timers immediate = new Route.Timers(Duration.ZERO, Duration.ZERO, Duration.ZERO);
        List<Route> children = new ArrayList<>();
        for (int i = 0; i < receiverNames.size(); i++) {
            children.add(new Route("root." + i, List.of(), receiverNames.get(i), Route.GroupBy.ALL, immediate, true,
                    List.of()));
        }
        return new RoutingTree(new Route("root", List.of(), null, Route.GroupBy.ALL, immediate, false, children),
                List.of(), List.of());
    }

    /**
     * @param env the environment, for {@code *_env} secrets
     * @throws YamlFileException naming file:line:column of every problem (a missing file is one)
     */
    public static RoutingTree load(Path file, Function<String, String> env) {
        return YamlReader.read(file, root -> new Binder(env).bind(root));
    }

    public static RoutingTree parse(String yaml, String source, Function<String, String> env) {
        return YamlReader.parse(yaml, source, root -> new Binder(env).bind(root));
    }

    public Route root() {
        return root;
    }

    /** The receivers the file declares, in file order; empty for {@link #everyReceiver}. */
    public List<ReceiverSpec> receivers() {
        return receivers;
    }

    public List<InhibitRule> inhibitRules() {
        return inhibitRules;
    }

    /** The routes (each with its receiver, grouping and timers) that get an alert with {@code alertLabels}. */
    public List<Route> routesOf(Map<String, String> alertLabels) {
        return root.deliveringRoutes(alertLabels).stream().filter(r -> r.receiver() != null).toList();
    }

    /** Who gets an alert with {@code alertLabels}, each once, in tree order. */
    public Set<String> receiversOf(Map<String, String> alertLabels) {
        Set<String> names = new LinkedHashSet<>();
        routesOf(alertLabels).forEach(r -> names.add(r.receiver()));
        return names;
    }

    /** Every route of the tree, depth first: what decide keeps groups for. */
    public List<Route> allRoutes() {
        List<Route> all = new ArrayList<>();
        collect(root, all);
        return all;
    }

    private static void collect(Route route, List<Route> into) {
        into.add(route);
        route.routes().forEach(child -> collect(child, into));
    }

    /** Reads one file; problems are recorded on the nodes, so one run reports them all. */
    private static final class Binder {

        private final Function<String, String> env;
        private final Map<String, ReceiverSpec> receivers = new LinkedHashMap<>();
        private final Map<YamlNode, String> receiverRefs = new HashMap<>();

        Binder(Function<String, String> env) {
            this.env = env;
        }

        RoutingTree bind(YamlNode file) {
            file.allowOnly("receivers", "route", "inhibit_rules");
            for (YamlNode node : file.require("receivers").items()) {
                ReceiverSpec spec = receiver(node);
                if (spec != null && receivers.putIfAbsent(spec.name(), spec) != null) {
                    node.get("name").problem("receiver '" + spec.name() + "' is declared twice");
                }
            }
            YamlNode rootNode = file.require("route");
            if (rootNode.get("matchers").exists()) {
                rootNode.get("matchers").problem("the root route takes every alert: it has no matchers");
            }
            if (rootNode.get("continue").exists()) {
                rootNode.get("continue").problem("the root route has no siblings: 'continue' means nothing here");
            }
            // Alertmanager's default: no group_by means one group per route.
            Route root = route(rootNode, "root", null, new Route.GroupBy(List.of(), false), Route.Timers.DEFAULTS, true);
            receiverRefs.forEach((node, name) -> {
                if (!receivers.containsKey(name)) {
                    node.problem("unknown receiver '" + name + "'; declared: " + String.join(", ", receivers.keySet()));
                }
            });
            List<InhibitRule> inhibit = new ArrayList<>();
            for (YamlNode node : file.get("inhibit_rules").items()) {
                node.allowOnly("source_matchers", "target_matchers", "equal");
                inhibit.add(new InhibitRule(matchers(node.require("source_matchers")),
                        matchers(node.require("target_matchers")), node.get("equal").textList(List.of())));
            }
            return new RoutingTree(root, List.copyOf(receivers.values()), inhibit);
        }

        private Route route(YamlNode node, String id, String parentReceiver, Route.GroupBy parentGroupBy,
                            Route.Timers parentTimers, boolean isRoot) {
            node.allowOnly("receiver", "matchers", "group_by", "group_wait", "group_interval", "repeat_interval",
                    "continue", "routes");
            YamlNode receiverNode = isRoot ? node.require("receiver") : node.get("receiver");
            String receiver = receiverNode.optionalText().orElse(parentReceiver);
            if (receiverNode.optionalText().isPresent()) {
                receiverRefs.put(receiverNode, receiver);
            }
            Route.GroupBy groupBy = node.get("group_by").exists() ? groupBy(node.get("group_by")) : parentGroupBy;
            Route.Timers timers = new Route.Timers(node.get("group_wait").duration(parentTimers.groupWait()),
                    node.get("group_interval").positiveDuration(parentTimers.groupInterval()),
                    node.get("repeat_interval").positiveDuration(parentTimers.repeatInterval()));
            List<Route> children = new ArrayList<>();
            List<YamlNode> childNodes = node.get("routes").items();
            for (int i = 0; i < childNodes.size(); i++) {
                children.add(route(childNodes.get(i), id + "." + i, receiver, groupBy, timers, false));
            }
            return new Route(id, isRoot ? List.of() : matchers(node.get("matchers")), receiver, groupBy, timers,
                    node.get("continue").bool(false), children);
        }

        private static Route.GroupBy groupBy(YamlNode node) {
            List<String> labels = node.textList(List.of());
            if (labels.contains(GROUP_ALL)) {
                if (labels.size() > 1) {
                    node.problem("'...' groups by every label: it cannot be combined with label names");
                }
                return Route.GroupBy.ALL;
            }
            return new Route.GroupBy(List.copyOf(labels), false);
        }

        private static List<Matcher> matchers(YamlNode node) {
            List<Matcher> matchers = new ArrayList<>();
            for (YamlNode item : node.isScalar() ? List.of(node) : node.items()) {
                try {
                    matchers.add(Matcher.parse(item.requiredText()));
                } catch (IllegalArgumentException e) {
                    item.problem(e.getMessage());
                }
            }
            return matchers;
        }

        private ReceiverSpec receiver(YamlNode node) {
            node.allowOnly("name", "kind", "url", "url_env", "url_file", "routing_key_env", "routing_key_file",
                    "signing_secret_env", "signing_secret_file");
            String name = node.require("name").requiredText();
            ReceiverSpec.Kind kind = node.require("kind").oneOf(ReceiverSpec.Kind.class, null);
            if (kind == null) {
                return null;
            }
            if (kind != ReceiverSpec.Kind.WEBHOOK
                    && (node.get("signing_secret_env").exists() || node.get("signing_secret_file").exists())) {
                node.problem("only a webhook receiver signs its requests: signing_secret_env / signing_secret_file "
                        + "mean nothing for a " + kind.name().toLowerCase(java.util.Locale.ROOT) + " receiver");
            }
            return switch (kind) {
                case SLACK, WEBHOOK -> {
                    if (node.get("url").exists()) {
                        node.get("url").problem("a " + kind.name().toLowerCase(java.util.Locale.ROOT) + " URL carries "
                                + "a token: give it with url_env or url_file, never in the file");
                    }
                    String url = secret(node, "url");
                    String signing = kind == ReceiverSpec.Kind.WEBHOOK ? signingSecret(node) : null;
                    yield new ReceiverSpec(name, kind, url == null ? null : httpUrl(node, url), null, signing);
                }
                case PAGERDUTY -> {
                    URI url = node.get("url").optionalText().map(text -> httpUrl(node.get("url"), text))
                            .orElse(PAGERDUTY_EVENTS);
                    if (node.get("url_env").exists() || node.get("url_file").exists()) {
                        node.problem("a pagerduty receiver's secret is its routing key: use routing_key_env or "
                                + "routing_key_file (and url for another endpoint)");
                    }
                    yield new ReceiverSpec(name, kind, url, secret(node, "routing_key"));
                }
            };
        }

        /**
         * A webhook's optional signing secret ({@code signing_secret_env} or {@code signing_secret_file}), at least
         * {@link ReceiverSpec#MIN_SIGNING_SECRET} characters; null when neither is given.
         */
        private String signingSecret(YamlNode node) {
            if (!node.get("signing_secret_env").exists() && !node.get("signing_secret_file").exists()) {
                return null;
            }
            String secret = secret(node, "signing_secret");
            if (secret != null && secret.length() < ReceiverSpec.MIN_SIGNING_SECRET) {
                node.problem("the signing secret is " + secret.length() + " characters long; an HMAC key needs at "
                        + "least " + ReceiverSpec.MIN_SIGNING_SECRET + " (e.g. openssl rand -hex 32)");
                return null;
            }
            return secret;
        }

        /** The secret {@code <what>_env} or {@code <what>_file} points at; exactly one must be given. */
        private String secret(YamlNode node, String what) {
            YamlNode fromEnv = node.get(what + "_env");
            YamlNode fromFile = node.get(what + "_file");
            if (fromEnv.exists() == fromFile.exists()) {
                node.problem("give exactly one of " + what + "_env (an environment variable) or " + what
                        + "_file (a secret file)");
                return null;
            }
            if (fromEnv.exists()) {
                String variable = fromEnv.requiredText();
                String value = env.apply(variable);
                if (value == null || value.isBlank()) {
                    fromEnv.problem("environment variable " + variable + " is not set");
                    return null;
                }
                return value.strip();
            }
            Path file = Path.of(fromFile.requiredText());
            try {
                String value = Files.readString(file).strip();
                if (value.isEmpty()) {
                    fromFile.problem("secret file " + file + " is empty");
                    return null;
                }
                return value;
            } catch (IOException e) {
                fromFile.problem("cannot read secret file " + file + ": " + e.getClass().getSimpleName());
                return null;
            }
        }

        /** An absolute http(s) URL; the message never echoes it, since it may carry a token. */
        private static URI httpUrl(YamlNode node, String text) {
            try {
                URI uri = URI.create(text);
                if (uri.getScheme() != null && uri.getScheme().matches("https?") && uri.getHost() != null) {
                    return uri;
                }
            } catch (IllegalArgumentException e) {
                // reported below
            }
            node.problem("not an absolute http(s) URL");
            return null;
        }
    }
}
