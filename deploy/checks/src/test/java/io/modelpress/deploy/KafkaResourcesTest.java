package io.modelpress.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Strimzi topics for every topic the services use, and users with exactly the access each needs. */
class KafkaResourcesTest {

    @Test
    void everyTopicTheCompressorUsesIsAKafkaTopicWithPartitionsAndRetention() throws IOException {
        Set<String> expected = new TreeSet<>(compressorTopics().values());
        expected.addAll(retryTopics());
        for (Manifests overlay : List.of(Overlays.local(), Overlays.production())) {
            Map<String, JsonNode> topics = topics(overlay);
            assertEquals(expected, topics.keySet(), overlay.source());
            int replicas = overlay == Overlays.local() ? 1 : 3;
            for (JsonNode topic : topics.values()) {
                String id = overlay.source() + " " + Manifests.id(topic);
                assertTrue(topic.path("spec").path("partitions").asInt() > 0, id);
                assertEquals(replicas, topic.path("spec").path("replicas").asInt(), id);
                assertTrue(topic.path("spec").path("config").path("retention.ms").asLong() > 0, id + " retention");
                assertTrue(topic.path("spec").path("config").path("min.insync.replicas").asInt() <= replicas, id);
                assertEquals("modelpress-kafka", topic.path("metadata").path("labels").path("strimzi.io/cluster").asText(), id);
            }
            assertEquals(6, topics.get("modelpress.model-registered").path("spec").path("partitions").asInt());
        }
    }

    /** What each service does with each topic (from its settings and the issue of the flow), as ACLs. */
    @Test
    void eachServicesUserMayDoWhatItNeedsAndNoMore() throws IOException {
        Map<String, String> topics = compressorTopics();
        String in = topics.get("model-registered");
        List<String> outputs = List.of(topics.get("compression-results"), topics.get("benchmarks"),
                topics.get("progress"), topics.get("failures"), topics.get("dead-letters"));
        Map<String, Set<String>> expected = new HashMap<>();
        expected.put("modelpress-compressor", acls(
                "topic " + in + " Read,Describe", "group modelpress-compressor Read,Describe",
                "group " + RETRY_GROUP_PREFIX + "modelpress-compressor Read,Describe"));
        outputs.forEach(t -> expected.get("modelpress-compressor").add("topic " + t + " Describe,Write"));
        // the connector's delayed retries: written on a failure, read back after their delay
        retryTopics().forEach(t -> expected.get("modelpress-compressor").add("topic " + t + " Describe,Read,Write"));
        expected.put("modelpress-registry-bridge", acls("topic " + in + " Describe,Write",
                "topic " + topics.get("compression-results") + " Describe,Read",
                "topic " + topics.get("failures") + " Describe,Read",
                "group modelpress-registry-bridge Describe,Read"));
        expected.put("modelpress-dashboard", acls(
                "topic " + topics.get("compression-results") + " Describe,Read",
                "topic " + topics.get("benchmarks") + " Describe,Read",
                "topic " + topics.get("progress") + " Describe,Read",
                "topic " + topics.get("failures") + " Describe,Read",
                "group modelpress-dashboard-* Describe,Read"));
        expected.put("modelpress-keda", acls("topic " + in + " Describe", "group modelpress-compressor Describe"));
        expected.values().forEach(set -> {
            Set<String> sorted = new HashSet<>();
            set.forEach(a -> sorted.add(normalise(a)));
            set.clear();
            set.addAll(sorted);
        });

        Manifests production = Overlays.production();
        Map<String, Set<String>> actual = new HashMap<>();
        for (JsonNode user : production.ofKind("KafkaUser")) {
            assertEquals("scram-sha-512", user.path("spec").path("authentication").path("type").asText());
            assertEquals("simple", user.path("spec").path("authorization").path("type").asText());
            Set<String> rules = new HashSet<>();
            for (JsonNode acl : user.path("spec").path("authorization").path("acls")) {
                rules.add(normalise(rule(acl)));
            }
            actual.put(Manifests.name(user), rules);
        }
        assertEquals(expected, actual);
        assertEquals(List.of(), Overlays.local().ofKind("KafkaUser"), "the local cluster has no authorization");
    }

    /**
     * Every channel a service declares in its application.properties is allowed to its user: Read on
     * each incoming topic and on its consumer group (a group named at run time, such as the
     * dashboard's, by a prefix ACL on its fixed part), Write on each outgoing topic.
     */
    @Test
    void everyChannelAServiceDeclaresIsAllowedToItsUser() throws IOException {
        Manifests production = Overlays.production();
        for (String service : List.of("compressor", "registry-bridge", "dashboard")) {
            Set<String> allowed = new HashSet<>();
            production.get("KafkaUser", "modelpress-" + service).path("spec").path("authorization").path("acls")
                    .forEach(acl -> allowed.add(rule(acl)));
            Properties properties = properties(service);
            for (String key : properties.stringPropertyNames()) {
                String[] parts = key.split("\\.");
                if (parts.length != 5 || !key.startsWith("mp.messaging.")) {
                    continue;
                }
                String direction = parts[2];
                String what = parts[4];
                String value = resolve(properties, properties.getProperty(key));
                if (what.equals("topic")) {
                    String operation = direction.equals("incoming") ? "Read" : "Write";
                    assertTrue(allowed.stream().anyMatch(r -> r.startsWith("topic " + value + " ")
                            && r.contains(operation)), service + " may not " + operation + " " + value + ": " + allowed);
                } else if (what.equals("group.id")) {
                    assertTrue(allowed.stream().anyMatch(r -> groupCovers(r, value)),
                            service + " may not join the group " + value + ": " + allowed);
                } else if (what.equals("failure-strategy") && value.equals("delayed-retry-topic")) {
                    String retryGroup = RETRY_GROUP_PREFIX + resolve(properties,
                            properties.getProperty(key.replace(what, "group.id")));
                    assertTrue(allowed.stream().anyMatch(r -> groupCovers(r, retryGroup)),
                            service + " may not read its delayed retries in the group " + retryGroup + ": " + allowed);
                }
            }
        }
    }

    /** "group NAME Read,..." covers a group id; a name ending in * is a prefix. RUNTIME marks a value known only at run time. */
    private static boolean groupCovers(String rule, String group) {
        String[] parts = rule.split(" ");
        if (!parts[0].equals("group") || !parts[2].contains("Read")) {
            return false;
        }
        return parts[1].endsWith("*") ? group.startsWith(parts[1].substring(0, parts[1].length() - 1))
                : parts[1].equals(group);
    }

    private static final String RUNTIME = "\u0000";
    /** The connector's delayed-retry consumer joins a group of its own: this prefix and the channel's group. */
    private static final String RETRY_GROUP_PREFIX = "kafka-delayed-retry-topic-";

    /** ${key} replaced from the same file; a placeholder the file does not define becomes RUNTIME. */
    private static String resolve(Properties properties, String value) {
        java.util.regex.Matcher placeholder = java.util.regex.Pattern.compile("\\$\\{([^}:]+)[^}]*}").matcher(value);
        StringBuilder resolved = new StringBuilder();
        while (placeholder.find()) {
            String inner = properties.getProperty(placeholder.group(1));
            placeholder.appendReplacement(resolved, java.util.regex.Matcher.quoteReplacement(
                    inner == null ? RUNTIME : resolve(properties, inner)));
        }
        placeholder.appendTail(resolved);
        return resolved.toString();
    }

    /** An ACL as "type name Op,Op"; a prefix pattern (allowed for groups only) as "name*". */
    private static String rule(JsonNode acl) {
        JsonNode resource = acl.path("resource");
        String type = resource.path("type").asText();
        String pattern = resource.path("patternType").asText();
        assertTrue(pattern.equals("literal") || (pattern.equals("prefix") && type.equals("group")),
                "prefix ACLs only for groups named at run time: " + acl);
        List<String> operations = new java.util.ArrayList<>();
        acl.path("operations").forEach(o -> operations.add(o.asText()));
        return type + " " + resource.path("name").asText() + (pattern.equals("prefix") ? "*" : "") + " "
                + String.join(",", operations);
    }

    /**
     * The groups the compressor's user may read (its own and its delayed retries'), and the one KEDA's
     * user may describe, are those the compressor joins.
     */
    @Test
    void theCompressorsGroupIsTheOneItsUsersMayUse() {
        Manifests production = Overlays.production();
        JsonNode container = Manifests.podSpec(WorkloadTest.compressor(production)).path("containers").path(0);
        String group = production.environment(container).get("MODELPRESS_CONSUMER_GROUP");
        for (String user : List.of("modelpress-compressor", "modelpress-keda")) {
            List<String> groups = new java.util.ArrayList<>();
            production.get("KafkaUser", user).path("spec").path("authorization").path("acls").forEach(acl -> {
                if (acl.path("resource").path("type").asText().equals("group")) {
                    groups.add(acl.path("resource").path("name").asText());
                }
            });
            List<String> expected = user.equals("modelpress-compressor") ? List.of(group, RETRY_GROUP_PREFIX + group)
                    : List.of(group);
            assertEquals(expected, groups, user);
        }
    }

    static Map<String, String> compressorTopics() throws IOException {
        Properties properties = compressorProperties();
        Map<String, String> topics = new HashMap<>();
        properties.stringPropertyNames().stream().filter(k -> k.startsWith("modelpress.topics."))
                .filter(k -> properties.getProperty(k).startsWith("modelpress."))
                .forEach(k -> topics.put(k.substring("modelpress.topics.".length()), properties.getProperty(k)));
        assertEquals(6, topics.size(), "the compressor's topics: " + topics);
        return topics;
    }

    /** The retry topics of the input channel, as the service names them outside tests. */
    static List<String> retryTopics() throws IOException {
        Properties properties = compressorProperties();
        String in = properties.getProperty("modelpress.topics.model-registered");
        return List.of(properties.getProperty("modelpress.faults.retry-topics")
                .replace("${modelpress.topics.model-registered}", in).split(","));
    }

    private static Properties compressorProperties() throws IOException {
        return properties("compressor");
    }

    private static Properties properties(String service) throws IOException {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(
                Repo.root().resolve("services/" + service + "/src/main/resources/application.properties"))) {
            properties.load(reader);
        }
        return properties;
    }

    static Map<String, JsonNode> topics(Manifests overlay) {
        Map<String, JsonNode> topics = new HashMap<>();
        overlay.ofKind("KafkaTopic").forEach(t -> topics.put(t.path("spec").path("topicName").asText(), t));
        return topics;
    }

    private static Set<String> acls(String... rules) {
        return new HashSet<>(List.of(rules));
    }

    /** "type name Op,Op" with the operations sorted. */
    private static String normalise(String rule) {
        String[] parts = rule.split(" ");
        return parts[0] + " " + parts[1] + " " + String.join(",", new TreeSet<>(List.of(parts[2].split(","))));
    }
}
