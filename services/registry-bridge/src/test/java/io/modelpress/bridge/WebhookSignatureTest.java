package io.modelpress.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.bridge.registry.WebhookSignature;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class WebhookSignatureTest {

    private static final byte[] BODY = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);

    @Test
    void signsTheDeliveryIdTimestampAndBodyAsMlflowDoes() {
        // computed apart from this code: base64(hmac.new(b"whsec-test", b'd-123.1733500000.{"a":1}', sha256).digest())
        assertEquals("v1,SsS/C+OcgtHQFQTz0iU/eq2WjEmgKa0DzoaJ2G6aEYs=",
                WebhookSignature.sign("whsec-test", "d-123", "1733500000", BODY));
    }

    @Test
    void acceptsOnlyTheExactSignature() {
        String good = WebhookSignature.sign("whsec-test", "d-123", "1733500000", BODY);
        assertTrue(WebhookSignature.matches("whsec-test", "d-123", "1733500000", BODY, good));
        assertFalse(WebhookSignature.matches("other", "d-123", "1733500000", BODY, good));
        assertFalse(WebhookSignature.matches("whsec-test", "d-124", "1733500000", BODY, good));
        assertFalse(WebhookSignature.matches("whsec-test", "d-123", "1733500001", BODY, good));
        assertFalse(WebhookSignature.matches("whsec-test", "d-123", "1733500000", "{\"a\":2}".getBytes(
                StandardCharsets.UTF_8), good));
        assertFalse(WebhookSignature.matches("whsec-test", "d-123", "1733500000", BODY, good.substring(3)));
        assertFalse(WebhookSignature.matches("whsec-test", "d-123", "1733500000", BODY, "v1,not base64!"));
        assertFalse(WebhookSignature.matches("whsec-test", "d-123", "1733500000", BODY, null));
    }
}
