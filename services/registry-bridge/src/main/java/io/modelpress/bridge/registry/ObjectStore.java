package io.modelpress.bridge.registry;

import static java.util.Objects.requireNonNull;

import io.minio.BucketExistsArgs;
import io.minio.CopyObjectArgs;
import io.minio.CopySource;
import io.minio.DownloadObjectArgs;
import io.minio.GetObjectArgs;
import io.minio.ListObjectsArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.Result;
import io.minio.UploadObjectArgs;
import io.minio.errors.ErrorResponseException;
import io.minio.messages.Item;
import io.modelpress.common.TrustedCertificates;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/** The S3 server, as the bridge uses it: list a folder, copy, upload, download. */
public final class ObjectStore {

    private final MinioClient client;
    private final String endpoint;

    /** An object directly in a folder. */
    public record StoredObject(String key, long size) {
        public String fileName() {
            return key.substring(key.lastIndexOf('/') + 1);
        }
    }

    public ObjectStore(String endpoint, String accessKey, String secretKey, String region) {
        this(endpoint, accessKey, secretKey, region, Optional.empty(), true);
    }

    /** With a PEM file of CA certificates trusted for an https endpoint, besides the JDK's or instead. */
    public ObjectStore(String endpoint, String accessKey, String secretKey, String region, Optional<Path> caFile,
            boolean trustJdkCas) {
        this.endpoint = requireNonNull(endpoint, "endpoint is null");
        MinioClient.Builder builder = MinioClient.builder().endpoint(endpoint)
                .credentials(requireNonNull(accessKey, "accessKey is null"), requireNonNull(secretKey, "secretKey is null"))
                .region(requireNonNull(region, "region is null"));
        requireNonNull(caFile, "caFile is null")
                .ifPresent(ca -> builder.httpClient(TrustedCertificates.httpClient(ca, trustJdkCas)));
        this.client = builder.build();
    }

    public void ensureBucket(String bucket) {
        call("create bucket " + bucket, () -> {
            if (!client.bucketExists(BucketExistsArgs.builder().bucket(bucket).build())) {
                client.makeBucket(MakeBucketArgs.builder().bucket(bucket).build());
            }
            return null;
        });
    }

    /** The objects directly under {@code folder/} (not in sub-folders). */
    public List<StoredObject> list(String bucket, String folder) {
        String prefix = folder.isEmpty() || folder.endsWith("/") ? folder : folder + "/";
        return call("list s3://" + bucket + "/" + prefix, () -> {
            List<StoredObject> objects = new ArrayList<>();
            for (Result<Item> result : client.listObjects(ListObjectsArgs.builder().bucket(bucket).prefix(prefix)
                    .recursive(false).build())) {
                Item item = result.get();
                if (!item.isDir() && !item.objectName().endsWith("/")) {
                    objects.add(new StoredObject(item.objectName(), item.size()));
                }
            }
            return objects;
        });
    }

    public void copy(String fromBucket, String fromKey, String toBucket, String toKey) {
        call("copy s3://" + fromBucket + "/" + fromKey + " to s3://" + toBucket + "/" + toKey, () -> client.copyObject(
                CopyObjectArgs.builder().bucket(toBucket).object(toKey)
                        .source(CopySource.builder().bucket(fromBucket).object(fromKey).build()).build()));
    }

    public void upload(Path file, String bucket, String key) {
        call("upload s3://" + bucket + "/" + key, () -> client.uploadObject(UploadObjectArgs.builder().bucket(bucket)
                .object(key).filename(file.toString()).build()));
    }

    public void download(String bucket, String key, Path file) {
        call("download s3://" + bucket + "/" + key, () -> {
            Files.deleteIfExists(file);
            client.downloadObject(DownloadObjectArgs.builder().bucket(bucket).object(key).filename(file.toString())
                    .build());
            return null;
        });
    }

    /** The sha256 of an object, lowercase hex, read as a stream (the compressor checks it before parsing). */
    public String sha256(String bucket, String key) {
        return call("read s3://" + bucket + "/" + key, () -> {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            try (InputStream in = new DigestInputStream(client.getObject(GetObjectArgs.builder().bucket(bucket).object(key)
                    .build()), digest)) {
                in.transferTo(java.io.OutputStream.nullOutputStream());
            }
            return HexFormat.of().formatHex(digest.digest());
        });
    }

    /** The sha256 of a local file, lowercase hex. */
    public static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            for (int read; (read = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, read);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (java.io.IOException | java.security.NoSuchAlgorithmException e) {
            throw new RegistryException("cannot read " + file + ": " + e.getMessage(), false, e);
        }
    }

    private interface Call<T> {
        T run() throws Exception;
    }

    private <T> T call(String what, Call<T> call) {
        try {
            return call.run();
        } catch (ErrorResponseException e) {
            String code = e.errorResponse() == null ? "" : e.errorResponse().code();
            boolean missing = "NoSuchKey".equals(code) || "NoSuchBucket".equals(code);
            throw new RegistryException("S3 at " + endpoint + " refused to " + what + ": " + code + " "
                    + e.getMessage(), !missing && !"AccessDenied".equals(code), e);
        } catch (RegistryException e) {
            throw e;
        } catch (Exception e) {
            throw new RegistryException("S3 at " + endpoint + " is unreachable (" + what + "): " + e.getMessage(), true, e);
        }
    }
}
