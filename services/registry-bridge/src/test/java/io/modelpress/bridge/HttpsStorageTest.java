package io.modelpress.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.modelpress.bridge.registry.ObjectStore;
import io.modelpress.localstack.LocalStack;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bridge's object store against an S3 server that speaks https only, with a CA made for the run. */
class HttpsStorageTest {

    @TempDir
    Path temp;

    @Test
    void anHttpsEndpointIsUsedWithTheGivenCaAndRefusedWithoutIt() throws Exception {
        try (LocalStack stack = LocalStack.builder().workFolder(temp.resolve("stack")).kafka(false).tls(true).start()) {
            String endpoint = stack.s3Endpoint().toString();
            ObjectStore trusted = new ObjectStore(endpoint, stack.accessKey(), stack.secretKey(), "us-east-1",
                    Optional.of(stack.certificates().caPem()), false);
            trusted.ensureBucket("models");
            Path file = Files.writeString(temp.resolve("a.txt"), "over https");
            trusted.upload(file, "models", "folder/a.txt");
            assertEquals(List.of(new ObjectStore.StoredObject("folder/a.txt", 10)), trusted.list("models", "folder"));

            ObjectStore jdkOnly = new ObjectStore(endpoint, stack.accessKey(), stack.secretKey(), "us-east-1");
            assertThrows(RuntimeException.class, () -> jdkOnly.list("models", "folder"),
                    "the JDK's CAs alone do not trust the run's certificate");
        }
    }
}
