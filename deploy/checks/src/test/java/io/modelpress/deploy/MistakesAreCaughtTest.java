package io.modelpress.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The checks fail on the mistakes they exist for: each case breaks one real rendered document. */
class MistakesAreCaughtTest {

    @Test
    void aMisspelledKubernetesFieldIsReported() {
        List<String> problems = strictProblems("Deployment", "modelpress-compressor",
                d -> container(d).put("imagePullPolcy", "Always"));
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("unknown field imagePullPolcy in spec.template.spec.containers[0]"),
                problems.get(0));
    }

    @Test
    void aMisspelledStrimziFieldAndAFieldRemovedInV1AreReported() {
        List<String> topic = strictProblems("KafkaTopic", "modelpress-model-registered",
                d -> ((ObjectNode) d.path("spec")).put("partition", 6));
        assertTrue(topic.size() == 1 && topic.get(0).contains("unknown field partition in spec"), topic.toString());

        List<String> user = strictProblems("KafkaUser", "modelpress-compressor",
                d -> ((ObjectNode) d.path("spec").path("authorization").path("acls").path(0)).put("operation", "Read"));
        assertTrue(user.size() == 1 && user.get(0).contains("operation is deprecated"), user.toString());
    }

    @Test
    void aKedaTypoAndANumericLagThresholdAreReported() throws Exception {
        List<String> typo = strictProblems("ScaledObject", "modelpress-compressor",
                d -> ((ObjectNode) d.path("spec")).put("maxReplicas", 6));
        assertTrue(typo.size() == 1 && typo.get(0).contains("maxReplicas"), typo.toString());

        Consumer<ObjectNode> numeric = d -> ((ObjectNode) d.path("spec").path("triggers").path(0).path("metadata"))
                .put("lagThreshold", 2);
        List<String> strict = strictProblems("ScaledObject", "modelpress-compressor", numeric);
        assertTrue(strict.size() == 1 && strict.get(0).contains("lagThreshold"), strict.toString());

        ObjectNode broken = broken("ScaledObject", "modelpress-compressor", numeric);
        List<String> schema = NodeSchemas.problems(new Manifests("broken", List.of(broken)));
        assertTrue(schema.size() == 1 && schema.get(0).contains("lagThreshold must be string"), schema.toString());
    }

    @Test
    void aServiceMonitorTypoAndAnUnquotedSettingAreReported() {
        List<String> monitor = strictProblems("ServiceMonitor", "modelpress-compressor",
                d -> ((ObjectNode) d.path("spec")).set("endpoint", d.path("spec").path("endpoints").path(0)));
        assertTrue(monitor.size() == 1 && monitor.get(0).contains("unknown field endpoint in spec"), monitor.toString());

        String configMap = Manifests.name(Overlays.production().ofKind("ConfigMap").get(0));
        List<String> unquoted = strictProblems("ConfigMap", configMap,
                d -> ((ObjectNode) d.path("data")).put("MODELPRESS_MAX_IN_FLIGHT", 1));
        assertEquals(1, unquoted.size(), unquoted.toString());
    }

    @Test
    void aKindWithoutASchemaIsReported() {
        List<String> problems = strictProblems("Service", "modelpress-compressor",
                d -> d.put("apiVersion", "v2"));
        assertTrue(problems.size() == 1 && problems.get(0).contains("no schema known for v2/Service"), problems.toString());
    }

    private static List<String> strictProblems(String kind, String name, Consumer<ObjectNode> mistake) {
        assertEquals(List.of(), StrictSchema.problems(Overlays.production().get(kind, name)), "valid before the mistake");
        return StrictSchema.problems(broken(kind, name, mistake));
    }

    private static ObjectNode broken(String kind, String name, Consumer<ObjectNode> mistake) {
        ObjectNode copy = Overlays.production().get(kind, name).deepCopy();
        mistake.accept(copy);
        return copy;
    }

    private static ObjectNode container(ObjectNode deployment) {
        return (ObjectNode) deployment.path("spec").path("template").path("spec").path("containers").path(0);
    }
}
