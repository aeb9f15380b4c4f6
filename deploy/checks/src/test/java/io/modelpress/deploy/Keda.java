package io.modelpress.deploy;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerBehavior;
import io.fabric8.kubernetes.api.model.batch.v1.JobSpec;
import java.util.List;
import java.util.Map;

/**
 * KEDA's custom resources (keda.sh/v1alpha1) as KEDA documents their fields, for a strict parse:
 * fabric8 has no KEDA model, and the npm schema checks types but lets unknown fields through.
 * Every record rejects a field it does not declare; pod templates and HPA behaviour are fabric8's.
 * Fields of KEDA that modelpress does not use (external secret stores, pod identities of clouds)
 * are left out on purpose: a manifest that starts using one extends this file.
 */
final class Keda {

    private Keda() {
    }

    @JsonIgnoreProperties(ignoreUnknown = false)
    record ScaledObject(String apiVersion, String kind, ObjectMeta metadata, ScaledObjectSpec spec) {
    }

    @JsonIgnoreProperties(ignoreUnknown = false)
    record ScaledObjectSpec(ScaleTarget scaleTargetRef, Integer pollingInterval, Integer cooldownPeriod,
            Integer initialCooldownPeriod, Integer idleReplicaCount, Integer minReplicaCount,
            Integer maxReplicaCount, Fallback fallback, Advanced advanced, List<Trigger> triggers) {
    }

    @JsonIgnoreProperties(ignoreUnknown = false)
    record ScaleTarget(String apiVersion, String kind, String name, String envSourceContainerName) {
    }

    @JsonIgnoreProperties(ignoreUnknown = false)
    record Fallback(Integer failureThreshold, Integer replicas, String behavior) {
    }

    @JsonIgnoreProperties(ignoreUnknown = false)
    record Advanced(Boolean restoreToOriginalReplicaCount, HpaConfig horizontalPodAutoscalerConfig,
            ScalingModifiers scalingModifiers) {
    }

    @JsonIgnoreProperties(ignoreUnknown = false)
    record HpaConfig(String name, HorizontalPodAutoscalerBehavior behavior) {
    }

    @JsonIgnoreProperties(ignoreUnknown = false)
    record ScalingModifiers(String formula, String target, String activationTarget, String metricType) {
    }

    /** Trigger metadata values are strings in KEDA's schema (lagThreshold: "2", not 2). */
    @JsonIgnoreProperties(ignoreUnknown = false)
    record Trigger(String type, String name, Map<String, String> metadata, AuthenticationRef authenticationRef,
            String metricType, Boolean useCachedMetrics) {
    }

    @JsonIgnoreProperties(ignoreUnknown = false)
    record AuthenticationRef(String name, String kind) {
    }

    @JsonIgnoreProperties(ignoreUnknown = false)
    record ScaledJob(String apiVersion, String kind, ObjectMeta metadata, ScaledJobSpec spec) {
    }

    @JsonIgnoreProperties(ignoreUnknown = false)
    record ScaledJobSpec(JobSpec jobTargetRef, Integer pollingInterval, Integer successfulJobsHistoryLimit,
            Integer failedJobsHistoryLimit, String envSourceContainerName, Integer minReplicaCount,
            Integer maxReplicaCount, String rolloutStrategy, Rollout rollout, ScalingStrategy scalingStrategy,
            List<Trigger> triggers) {
    }

    @JsonIgnoreProperties(ignoreUnknown = false)
    record Rollout(String strategy, String propagationPolicy) {
    }

    @JsonIgnoreProperties(ignoreUnknown = false)
    record ScalingStrategy(String strategy, Integer customScalingQueueLengthDeduction,
            Double customScalingRunningJobPercentage, List<String> pendingPodConditions,
            String multipleScalersCalculation) {
    }

    @JsonIgnoreProperties(ignoreUnknown = false)
    record TriggerAuthentication(String apiVersion, String kind, ObjectMeta metadata, TriggerAuthenticationSpec spec) {
    }

    @JsonIgnoreProperties(ignoreUnknown = false)
    record TriggerAuthenticationSpec(List<SecretTarget> secretTargetRef, List<EnvTarget> env,
            List<SecretTarget> configMapTargetRef, PodIdentity podIdentity) {
    }

    /** A parameter from a Secret's (or ConfigMap's) key. */
    @JsonIgnoreProperties(ignoreUnknown = false)
    record SecretTarget(String parameter, String name, String key) {
    }

    @JsonIgnoreProperties(ignoreUnknown = false)
    record EnvTarget(String parameter, String name, String containerName) {
    }

    @JsonIgnoreProperties(ignoreUnknown = false)
    record PodIdentity(String provider, String identityId, String identityOwner, String roleArn,
            String identityTenantId, String identityAuthorityHost) {
    }
}
