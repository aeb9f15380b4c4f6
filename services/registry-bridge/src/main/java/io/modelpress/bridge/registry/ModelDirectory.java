package io.modelpress.bridge.registry;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Brings a registered model's directory into modelpress's bucket: every file directly in it (MLmodel,
 * model.onnx, the external-data file that {@code mlflow.onnx.log_model} names by a UUID with no
 * extension, ...), read from {@code s3://} or through MLflow's artifact proxy ({@code mlflow-artifacts:}).
 * A directory already in modelpress's bucket is used where it is.
 */
public final class ModelDirectory {

    /** The {@code data:} line of the ONNX flavour in an MLmodel file. */
    private static final Pattern MLMODEL_DATA = Pattern.compile("(?m)^\\s+data:\\s*['\"]?([^'\"\\s]+\\.onnx)['\"]?\\s*$");

    private final ObjectStore store;
    private final Optional<MlflowClient> mlflow;
    private final String bucket;
    private final long maxBytes;
    private final Path scratch;

    /**
     * Where the model is now. {@code artifactUri} is the ONNX file, {@code sha256} its digest as the
     * event carries it; {@code files} every file beside it.
     */
    public record Copied(String artifactUri, String sha256, long modelBytes, long totalBytes, List<String> files,
            boolean copied) {
    }

    private record Listing(List<String> names, List<Long> sizes) {
        long total() {
            return sizes.stream().mapToLong(Long::longValue).sum();
        }
    }

    public ModelDirectory(ObjectStore store, Optional<MlflowClient> mlflow, String bucket, long maxBytes, Path scratch) {
        this.store = requireNonNull(store, "store is null");
        this.mlflow = requireNonNull(mlflow, "mlflow is null");
        this.bucket = requireNonNull(bucket, "bucket is null");
        this.maxBytes = maxBytes;
        this.scratch = requireNonNull(scratch, "scratch is null");
    }

    /**
     * Copies the directory at {@code uri} to {@code s3://<bucket>/<targetFolder>/} unless it is in the
     * bucket already. Fails (not retryable) when the directory is empty or missing, holds no ONNX model,
     * or is larger than the limit.
     */
    public Copied bring(String uri, String targetFolder) {
        requireNonNull(uri, "uri is null");
        URI parsed;
        try {
            parsed = URI.create(uri.trim());
        } catch (IllegalArgumentException e) {
            throw new RegistryException("the artifact location '" + uri + "' is not a URI", false);
        }
        String scheme = parsed.getScheme() == null ? "" : parsed.getScheme();
        return switch (scheme) {
            case "s3", "s3a" -> fromS3(uri, parsed, targetFolder);
            case "mlflow-artifacts" -> fromProxy(uri, parsed, targetFolder);
            default -> throw new RegistryException("the artifact location '" + uri + "' is not supported: the bridge reads"
                    + " s3:// and mlflow-artifacts:/ (serve MLflow's artifacts from S3 or with --serve-artifacts)", false);
        };
    }

    private Copied fromS3(String uri, URI parsed, String targetFolder) {
        String sourceBucket = parsed.getHost();
        String folder = strip(parsed.getPath());
        if (sourceBucket == null || sourceBucket.isBlank()) {
            throw new RegistryException("the artifact location '" + uri + "' names no bucket", false);
        }
        if (folder.endsWith(".onnx")) {
            folder = folder.contains("/") ? folder.substring(0, folder.lastIndexOf('/')) : "";
        }
        List<ObjectStore.StoredObject> objects = store.list(sourceBucket, folder);
        Listing listing = new Listing(objects.stream().map(ObjectStore.StoredObject::fileName).toList(),
                objects.stream().map(ObjectStore.StoredObject::size).toList());
        check(uri, listing);
        String sourceFolder = folder;
        String model = modelFile(uri, listing, () -> {
            Path local = scratchFile("MLmodel");
            store.download(sourceBucket, join(sourceFolder, "MLmodel"), local);
            return local;
        });
        long modelBytes = listing.sizes().get(listing.names().indexOf(model));
        if (sourceBucket.equals(bucket)) {
            return copied(join(folder, model), modelBytes, listing.total(), listing.names(), false);
        }
        for (String name : listing.names()) {
            store.copy(sourceBucket, join(folder, name), bucket, join(targetFolder, name));
        }
        return copied(join(targetFolder, model), modelBytes, listing.total(), listing.names(), true);
    }

    private Copied fromProxy(String uri, URI parsed, String targetFolder) {
        MlflowClient client = mlflow.orElseThrow(() -> new RegistryException("the artifact location '" + uri
                + "' needs MLflow's artifact proxy, but no MLflow URL is configured", false));
        // mlflow-artifacts:/path or mlflow-artifacts://host:port/path; the path is what the proxy serves
        String folder = strip(parsed.getPath());
        List<String> names = new ArrayList<>();
        List<Long> sizes = new ArrayList<>();
        for (MlflowClient.ArtifactEntry entry : client.listArtifacts(folder)) {
            if (!entry.directory()) {
                names.add(entry.path().contains("/") ? entry.path().substring(entry.path().lastIndexOf('/') + 1)
                        : entry.path());
                sizes.add(entry.size());
            }
        }
        Listing listing = new Listing(names, sizes);
        check(uri, listing);
        String model = modelFile(uri, listing, () -> {
            Path local = scratchFile("MLmodel");
            client.downloadArtifact(join(folder, "MLmodel"), local);
            return local;
        });
        for (String name : names) {
            Path local = scratchFile(name);
            try {
                client.downloadArtifact(join(folder, name), local);
                store.upload(local, bucket, join(targetFolder, name));
            } finally {
                delete(local);
            }
        }
        return copied(join(targetFolder, model), sizes.get(names.indexOf(model)), listing.total(), names, true);
    }

    /** The model where it now lies in modelpress's bucket, with the digest of what is there. */
    private Copied copied(String modelKey, long modelBytes, long totalBytes, List<String> files, boolean copied) {
        return new Copied("s3://" + bucket + "/" + modelKey, store.sha256(bucket, modelKey), modelBytes, totalBytes,
                files, copied);
    }

    private void check(String uri, Listing listing) {
        if (listing.names().isEmpty()) {
            throw new RegistryException("the model directory " + uri + " is missing or empty", false);
        }
        if (listing.total() > maxBytes) {
            throw new RegistryException("the model directory " + uri + " holds " + listing.total()
                    + " bytes, over the bridge's limit of " + maxBytes + " bytes (modelpress.bridge.max-model-bytes)",
                    false);
        }
    }

    private interface MlmodelFetch {
        Path fetch();
    }

    /** The ONNX file: the one MLmodel names, else the only {@code .onnx} file of the directory. */
    private String modelFile(String uri, Listing listing, MlmodelFetch mlmodel) {
        if (listing.names().contains("MLmodel")) {
            Path local = mlmodel.fetch();
            try {
                Matcher data = MLMODEL_DATA.matcher(Files.readString(local));
                if (data.find()) {
                    String named = data.group(1);
                    if (!listing.names().contains(named)) {
                        throw new RegistryException("MLmodel in " + uri + " names " + named
                                + ", which is not in the directory (files: " + String.join(", ", listing.names()) + ")",
                                false);
                    }
                    return named;
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                delete(local);
            }
        }
        List<String> onnx = listing.names().stream().filter(n -> n.endsWith(".onnx")).toList();
        if (onnx.size() != 1) {
            throw new RegistryException("the model directory " + uri + " holds " + (onnx.isEmpty() ? "no" : onnx.size())
                    + " .onnx files and no MLmodel naming one (files: " + String.join(", ", listing.names()) + ")",
                    false);
        }
        return onnx.get(0);
    }

    private Path scratchFile(String name) {
        try {
            Files.createDirectories(scratch);
            return Files.createTempFile(scratch, "artifact-", "-" + name.replaceAll("[^A-Za-z0-9._-]", "_"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a file in " + scratch + ": " + e.getMessage(), e);
        }
    }

    private static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // a scratch file left behind is harmless
        }
    }

    private static String strip(String path) {
        String result = path == null ? "" : path;
        while (result.startsWith("/")) {
            result = result.substring(1);
        }
        while (result.endsWith("/")) {
            result = result.substring(0, result.length() - 1);
        }
        return result;
    }

    static String join(String folder, String name) {
        return folder.isEmpty() ? name : folder + "/" + name;
    }
}
