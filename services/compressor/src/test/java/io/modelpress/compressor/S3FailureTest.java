package io.modelpress.compressor;

import static org.junit.jupiter.api.Assertions.assertTrue;

import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

/** How an S3 error the service cannot fix by itself is reported. */
class S3FailureTest {

    @Test
    void anUntrustedServerCertificateIsReportedWithTheSettingToCheck() {
        JobFailure failure = ObjectStore.failure(Stage.DOWNLOAD, "cannot download s3://models/a.onnx",
                new SSLHandshakeException("PKIX path building failed"));
        assertTrue(failure.getMessage().contains("MODELPRESS_S3_CA_FILE"), failure.getMessage());
        assertTrue(failure.retryable(), "a record is not lost to a trust setting that is being fixed");
    }
}
