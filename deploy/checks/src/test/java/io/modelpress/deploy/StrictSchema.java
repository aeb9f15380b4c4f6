package io.modelpress.deploy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.type.LogicalType;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor;
import io.strimzi.api.kafka.model.kafka.Kafka;
import io.strimzi.api.kafka.model.nodepool.KafkaNodePool;
import io.strimzi.api.kafka.model.topic.KafkaTopic;
import io.strimzi.api.kafka.model.user.KafkaUser;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses each document into the model class of its apiVersion and kind — fabric8's for Kubernetes
 * and the Prometheus operator, Strimzi's {@code io.strimzi:api} for kafka.strimzi.io, {@link Keda}
 * for keda.sh — and reports every field the model does not know (fabric8 and Strimzi keep those in
 * additionalProperties instead of failing), every Strimzi field deprecated before the v1 API, and
 * every number or boolean where the schema wants a string. A document of another kind is reported
 * too: nothing in deploy/ goes unchecked.
 */
final class StrictSchema {

    private static final Map<String, Class<?>> MODELS = Map.ofEntries(
            Map.entry("v1/Namespace", Namespace.class),
            Map.entry("v1/ConfigMap", ConfigMap.class),
            Map.entry("v1/Secret", Secret.class),
            Map.entry("v1/Service", Service.class),
            Map.entry("apps/v1/Deployment", Deployment.class),
            Map.entry("apps/v1/StatefulSet", io.fabric8.kubernetes.api.model.apps.StatefulSet.class),
            Map.entry("batch/v1/Job", Job.class),
            Map.entry("policy/v1/PodDisruptionBudget", PodDisruptionBudget.class),
            Map.entry("monitoring.coreos.com/v1/ServiceMonitor", ServiceMonitor.class),
            Map.entry("kafka.strimzi.io/v1/KafkaTopic", KafkaTopic.class),
            Map.entry("kafka.strimzi.io/v1/KafkaUser", KafkaUser.class),
            Map.entry("kafka.strimzi.io/v1/Kafka", Kafka.class),
            Map.entry("kafka.strimzi.io/v1/KafkaNodePool", KafkaNodePool.class),
            Map.entry("keda.sh/v1alpha1/ScaledObject", Keda.ScaledObject.class),
            Map.entry("keda.sh/v1alpha1/ScaledJob", Keda.ScaledJob.class),
            Map.entry("keda.sh/v1alpha1/TriggerAuthentication", Keda.TriggerAuthentication.class));

    private static final ObjectMapper MAPPER = strictMapper();

    private StrictSchema() {
    }

    /** Every problem of every document, one line each ("Kind/name: ..."); empty when all are valid. */
    static List<String> problems(Manifests manifests) {
        List<String> problems = new ArrayList<>();
        for (JsonNode document : manifests.documents()) {
            problems.addAll(problems(document));
        }
        return problems.stream().map(p -> manifests.source() + ": " + p).toList();
    }

    static List<String> problems(JsonNode document) {
        String id = Manifests.id(document);
        String type = document.path("apiVersion").asText() + "/" + document.path("kind").asText();
        Class<?> model = MODELS.get(type);
        if (model == null) {
            return List.of(id + ": no schema known for " + type);
        }
        Object parsed;
        try {
            parsed = MAPPER.treeToValue(document, model);
        } catch (JsonProcessingException e) {
            return List.of(id + ": " + e.getOriginalMessage() + " at " + path(e));
        }
        List<String> problems = new ArrayList<>();
        walk(parsed, "", problems, Collections.newSetFromMap(new IdentityHashMap<>()));
        return problems.stream().map(p -> id + ": " + p).toList();
    }

    private static ObjectMapper strictMapper() {
        ObjectMapper mapper = new ObjectMapper();
        mapper.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        mapper.enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
        mapper.enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);
        // Kubernetes wants strings in ConfigMap data, labels, annotations and KEDA's trigger
        // metadata: an unquoted 1 or true there is refused by the API server, so refuse it here.
        for (CoercionInputShape shape : List.of(CoercionInputShape.Integer, CoercionInputShape.Float,
                CoercionInputShape.Boolean)) {
            mapper.coercionConfigFor(LogicalType.Textual).setCoercion(shape, CoercionAction.Fail);
        }
        return mapper;
    }

    private static String path(JsonProcessingException e) {
        if (e instanceof com.fasterxml.jackson.databind.JsonMappingException mapping) {
            StringBuilder path = new StringBuilder();
            for (var reference : mapping.getPath()) {
                path.append(reference.getFieldName() != null ? "." + reference.getFieldName()
                        : "[" + reference.getIndex() + "]");
            }
            return path.length() == 0 ? "the top" : path.substring(1);
        }
        return "?";
    }

    /** Visits the parsed object graph: model objects, records, lists and maps. */
    private static void walk(Object value, String path, List<String> problems, Set<Object> seen) {
        if (value == null || isLeaf(value) || !seen.add(value)) {
            return;
        }
        if (value instanceof Collection<?> items) {
            int i = 0;
            for (Object item : items) {
                walk(item, path + "[" + i++ + "]", problems, seen);
            }
            return;
        }
        if (value instanceof Map<?, ?> map) {
            map.forEach((k, v) -> walk(v, path + "." + k, problems, seen));
            return;
        }
        Class<?> type = value.getClass();
        if (type.isRecord()) {
            for (RecordComponent component : type.getRecordComponents()) {
                walk(invoke(component.getAccessor(), value), path + "." + component.getName(), problems, seen);
            }
            return;
        }
        if (!isModel(type)) {
            return;
        }
        for (Method getter : type.getMethods()) {
            if (!isGetter(getter)) {
                continue;
            }
            Object field = invoke(getter, value);
            String name = property(getter);
            if (name.equals("additionalProperties")) {
                if (field instanceof Map<?, ?> unknown && !unknown.isEmpty()) {
                    problems.add("unknown field" + (unknown.size() > 1 ? "s " : " ")
                            + String.join(", ", unknown.keySet().stream().map(Object::toString).sorted().toList())
                            + " in " + (path.isEmpty() ? "the top level" : path.substring(1)));
                }
                continue;
            }
            if (field != null && getter.isAnnotationPresent(Deprecated.class)
                    && type.getName().startsWith("io.strimzi.")) {
                problems.add((path + "." + name).substring(1) + " is deprecated and not part of kafka.strimzi.io/v1");
            }
            walk(field, path + "." + name, problems, seen);
        }
    }

    private static boolean isModel(Class<?> type) {
        String name = type.getName();
        return name.startsWith("io.fabric8.kubernetes.api.model.") || name.startsWith("io.fabric8.openshift.api.model.")
                || name.startsWith("io.strimzi.api.");
    }

    private static boolean isLeaf(Object value) {
        return value instanceof CharSequence || value instanceof Number || value instanceof Boolean
                || value instanceof Enum<?> || value.getClass().isPrimitive();
    }

    private static boolean isGetter(Method method) {
        if (Modifier.isStatic(method.getModifiers()) || method.getParameterCount() != 0
                || method.getDeclaringClass() == Object.class) {
            return false;
        }
        String name = method.getName();
        return (name.startsWith("get") && name.length() > 3)
                || (name.startsWith("is") && name.length() > 2 && method.getReturnType() == boolean.class);
    }

    private static String property(Method getter) {
        String name = getter.getName().substring(getter.getName().startsWith("get") ? 3 : 2);
        return Character.toLowerCase(name.charAt(0)) + name.substring(1);
    }

    private static Object invoke(Method method, Object target) {
        try {
            return method.invoke(target);
        } catch (IllegalAccessException | InvocationTargetException e) {
            return null; // a computed getter that does not apply to this object
        }
    }
}
