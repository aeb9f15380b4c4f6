package io.modelpress.bridge.registry;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * MLflow's webhook signature: {@code v1,} and the base64 HMAC-SHA256, keyed by the webhook's secret,
 * of {@code "{delivery id}.{timestamp}.{raw body}"}.
 */
public final class WebhookSignature {

    public static final String VERSION_PREFIX = "v1,";

    private WebhookSignature() {
    }

    /** The header value MLflow sends for this delivery. */
    public static String sign(String secret, String deliveryId, String timestamp, byte[] body) {
        requireNonNull(secret, "secret is null");
        return VERSION_PREFIX + Base64.getEncoder().encodeToString(mac(secret, deliveryId, timestamp, body));
    }

    /**
     * Whether the header carries this delivery's signature. Compared in constant time, so a caller
     * learns nothing from how long a wrong guess took.
     */
    public static boolean matches(String secret, String deliveryId, String timestamp, byte[] body, String header) {
        if (header == null || !header.startsWith(VERSION_PREFIX)) {
            return false;
        }
        byte[] given;
        try {
            given = Base64.getDecoder().decode(header.substring(VERSION_PREFIX.length()).trim());
        } catch (IllegalArgumentException e) {
            return false;
        }
        return MessageDigest.isEqual(mac(secret, deliveryId, timestamp, body), given);
    }

    private static byte[] mac(String secret, String deliveryId, String timestamp, byte[] body) {
        requireNonNull(deliveryId, "deliveryId is null");
        requireNonNull(timestamp, "timestamp is null");
        requireNonNull(body, "body is null");
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            mac.update((deliveryId + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8));
            return mac.doFinal(body);
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HMAC-SHA256 is not available: " + e.getMessage(), e);
        }
    }
}
