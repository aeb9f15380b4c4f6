package io.modelpress.deploy;

import java.util.List;
import java.util.Map;

/**
 * Secrets the production overlay names but does not hold, with the keys the manifests read from
 * them: created by the platform engineer (deploy/README.md) or written by Strimzi's operators.
 * A reference to any other missing Secret is a mistake.
 */
final class ExternalSecrets {

    /** name -> keys; the KafkaUsers' own Secrets are added from the overlay's KafkaUsers. */
    static final Map<String, List<String>> CREATED_BY_HAND = Map.of(
            "modelpress-s3", List.of("MODELPRESS_S3_ACCESS_KEY", "MODELPRESS_S3_SECRET_KEY"),
            "modelpress-mlflow", List.of("MODELPRESS_BRIDGE_MLFLOW_TOKEN", "MODELPRESS_BRIDGE_WEBHOOK_SECRET"));

    static final Map<String, List<String>> WRITTEN_BY_STRIMZI = Map.of(
            // the Cluster Operator publishes the cluster CA as <cluster>-cluster-ca-cert
            "modelpress-kafka-cluster-ca-cert", List.of("ca.crt"));

    /** Keys of the Secret the User Operator writes for a SCRAM-SHA-512 KafkaUser. */
    static final List<String> SCRAM_USER_KEYS = List.of("password", "sasl.jaas.config");

    private ExternalSecrets() {
    }

    static List<String> keys(String secret) {
        if (CREATED_BY_HAND.containsKey(secret)) {
            return CREATED_BY_HAND.get(secret);
        }
        return WRITTEN_BY_STRIMZI.getOrDefault(secret, List.of());
    }
}
