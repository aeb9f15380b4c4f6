package io.modelpress.compressor;

import io.minio.GetObjectArgs;
import io.minio.ListObjectsArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.RemoveObjectArgs;
import io.minio.Result;
import io.minio.StatObjectArgs;
import io.minio.UploadObjectArgs;
import io.minio.errors.ErrorResponseException;
import io.minio.messages.Item;
import io.modelpress.common.TrustedCertificates;
import io.modelpress.engine.job.ObjectStorage;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import javax.net.ssl.SSLException;
import io.smallrye.faulttolerance.api.Guard;

/** S3-compatible storage through the MinIO client; every failure becomes a {@link JobFailure} that says what and where. */
@ApplicationScoped
public class ObjectStore {

    /** S3 error codes that mean the request itself is wrong: sending it again cannot help. */
    private static final Set<String> PERMANENT = Set.of("NoSuchKey", "NoSuchBucket", "AccessDenied", "InvalidAccessKeyId",
            "SignatureDoesNotMatch", "InvalidBucketName", "InvalidObjectName", "InvalidRequest", "InvalidArgument",
            "EntityTooLarge", "MethodNotAllowed", "InvalidRange", "KeyTooLongError", "AuthorizationHeaderMalformed");
    /** S3 error codes that say the server is busy or briefly unwell. */
    private static final Set<String> TRANSIENT = Set.of("SlowDown", "InternalError", "ServiceUnavailable",
            "RequestTimeout", "RequestTimeTooSkewed", "OperationAborted", "XMinioServerNotInitialized");

    private final MinioClient client;
    private final Guard guard;

    @Inject
    public ObjectStore(CompressorConfig config) {
        CompressorConfig.S3 s3 = config.s3();
        MinioClient.Builder builder = MinioClient.builder().endpoint(s3.endpoint())
                .credentials(s3.accessKey(), s3.secretKey()).region(s3.region());
        s3.caFile().ifPresent(ca -> builder.httpClient(TrustedCertificates.httpClient(ca, s3.trustJdkCas())));
        this.client = builder.build();
        long timeout = s3.timeout().toMillis();
        client.setTimeout(timeout, timeout, timeout);
        this.guard = Backoff.guard("s3", config.faults().backoff());
    }

    /** Runs one S3 call, again with backoff while it fails for a transient reason. */
    private <T> T retried(Supplier<T> call) {
        return Backoff.run(guard, call);
    }

    /** An object of a listing. */
    public record StoredObject(S3Location location, long size) {
    }

    /** The objects directly in {@code folder} of {@code bucket} (not in its sub-folders). */
    public List<StoredObject> listFolder(String bucket, String folder) {
        return retried(() -> listOnce(bucket, folder));
    }

    private List<StoredObject> listOnce(String bucket, String folder) {
        List<StoredObject> objects = new ArrayList<>();
        try {
            for (Result<Item> result : client.listObjects(ListObjectsArgs.builder().bucket(bucket).prefix(folder)
                    .recursive(false).build())) {
                Item item = result.get();
                if (!item.isDir() && !item.objectName().endsWith("/")) {
                    objects.add(new StoredObject(new S3Location(bucket, item.objectName()), item.size()));
                }
            }
            return objects;
        } catch (Exception e) {
            throw failure(Stage.DOWNLOAD, "cannot list s3://" + bucket + "/" + folder, e);
        }
    }

    /**
     * Streams an object to a file, at most {@code maxBytes}.
     *
     * @return the sha256 of what was written, lowercase hex
     * @throws ObjectStorage.NotFound when there is no such object
     * @throws ObjectStorage.TooLarge when it holds more than {@code maxBytes}
     */
    public String download(S3Location location, Path target, long maxBytes) {
        return retried(() -> downloadOnce(location, target, maxBytes));
    }

    private String downloadOnce(S3Location location, Path target, long maxBytes) {
        MessageDigest sha = sha256();
        byte[] buffer = new byte[1 << 16];
        long total = 0;
        try (InputStream in = client.getObject(GetObjectArgs.builder().bucket(location.bucket()).object(location.key())
                .build()); OutputStream out = Files.newOutputStream(target)) {
            for (int read; (read = in.read(buffer)) > 0; ) {
                total += read;
                if (total > maxBytes) {
                    throw new ObjectStorage.TooLarge(location + " is larger than the limit of " + maxBytes + " bytes");
                }
                sha.update(buffer, 0, read);
                out.write(buffer, 0, read);
            }
        } catch (ObjectStorage.TooLarge e) {
            throw e;
        } catch (ErrorResponseException e) {
            if ("NoSuchKey".equals(e.errorResponse().code())) {
                throw new ObjectStorage.NotFound("no object at " + location, e);
            }
            throw failure(Stage.DOWNLOAD, "cannot download " + location, e);
        } catch (Exception e) {
            throw failure(Stage.DOWNLOAD, "cannot download " + location, e);
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    /** The object's text, or empty when there is no such object. */
    public Optional<String> readText(S3Location location) {
        return retried(() -> readOnce(location));
    }

    private Optional<String> readOnce(S3Location location) {
        try (InputStream in = client.getObject(GetObjectArgs.builder().bucket(location.bucket()).object(location.key())
                .build())) {
            return Optional.of(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (ErrorResponseException e) {
            if ("NoSuchKey".equals(e.errorResponse().code())) {
                return Optional.empty();
            }
            throw failure(Stage.STORE, "cannot read " + location, e);
        } catch (Exception e) {
            throw failure(Stage.STORE, "cannot read " + location, e);
        }
    }

    public void upload(Path file, S3Location location, String contentType) {
        retried(() -> {
            try {
                client.uploadObject(UploadObjectArgs.builder().bucket(location.bucket()).object(location.key())
                        .filename(file.toString()).contentType(contentType).build());
                return null;
            } catch (Exception e) {
                throw failure(Stage.STORE, "cannot store " + location, e);
            }
        });
    }

    /**
     * Uploads unless an object is already stored at the location. For content-addressed keys (and
     * per-request reports) an object that exists holds what would be written, so a result computed
     * again after a redelivery does not write any object a second time. Returns whether it wrote.
     */
    public boolean uploadIfAbsent(Path file, S3Location location, String contentType) {
        if (exists(location)) {
            return false;
        }
        upload(file, location, contentType);
        return true;
    }

    public boolean exists(S3Location location) {
        try {
            client.statObject(StatObjectArgs.builder().bucket(location.bucket()).object(location.key()).build());
            return true;
        } catch (ErrorResponseException e) {
            if ("NoSuchKey".equals(e.errorResponse().code()) || "NoSuchObject".equals(e.errorResponse().code())) {
                return false;
            }
            throw failure(Stage.STORE, "cannot look up " + location, e);
        } catch (Exception e) {
            throw failure(Stage.STORE, "cannot look up " + location, e);
        }
    }

    public void writeText(S3Location location, String text, String contentType) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        retried(() -> {
            try {
                client.putObject(PutObjectArgs.builder().bucket(location.bucket()).object(location.key())
                        .stream(new ByteArrayInputStream(bytes), bytes.length, -1).contentType(contentType).build());
                return null;
            } catch (Exception e) {
                throw failure(Stage.STORE, "cannot store " + location, e);
            }
        });
    }

    /** Removes an object; removing one that is not there is no error. */
    public void delete(S3Location location) {
        retried(() -> {
            try {
                client.removeObject(RemoveObjectArgs.builder().bucket(location.bucket()).object(location.key()).build());
                return null;
            } catch (Exception e) {
                throw failure(Stage.STORE, "cannot remove " + location, e);
            }
        });
    }

    /**
     * Checks that the server answers and knows the credentials. An access refusal still means the
     * server is there and the keys are known (a policy may forbid listing buckets).
     */
    public void ping() throws Exception {
        try {
            client.listBuckets();
        } catch (ErrorResponseException e) {
            if (!"AccessDenied".equals(e.errorResponse().code())) {
                throw e;
            }
        }
    }

    /**
     * A failure with the S3 error code when the server gave one: permanent when the request itself
     * is wrong (sending it again cannot help), transient when the server was busy, unwell or out of
     * reach; an unknown code is transient only for a 5xx status.
     */
    static JobFailure failure(Stage stage, String what, Exception error) {
        if (error instanceof ErrorResponseException response) {
            String code = response.errorResponse().code();
            String message = response.errorResponse().message();
            String reason = what + ": " + code + (message == null || message.isBlank() ? "" : " (" + message + ")");
            int status = response.response() == null ? 0 : response.response().code();
            boolean transientCode = TRANSIENT.contains(code) || !PERMANENT.contains(code) && status >= 500;
            return new JobFailure(stage, transientCode, reason, error);
        }
        if (error instanceof ConnectException || error instanceof SocketTimeoutException
                || error instanceof UnknownHostException) {
            return new JobFailure(stage, true, what + ": storage unreachable: " + error.getMessage(), error);
        }
        if (error instanceof SSLException) {
            // Transient as far as the record goes: once the trust is set right, it should go through.
            return new JobFailure(stage, true, what + ": TLS with the storage failed: " + error.getMessage()
                    + " (does MODELPRESS_S3_CA_FILE hold the CA of its certificate?)", error);
        }
        if (error instanceof IOException) {
            return new JobFailure(stage, true, what + ": " + error.getClass().getSimpleName() + ": " + error.getMessage(),
                    error);
        }
        return new JobFailure(stage, true, what + ": " + error.getClass().getSimpleName()
                + (error.getMessage() == null ? "" : ": " + error.getMessage()), error);
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }
}
