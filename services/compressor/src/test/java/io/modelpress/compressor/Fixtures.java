package io.modelpress.compressor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.minio.GetObjectArgs;
import io.minio.ListObjectsArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.Result;
import io.minio.messages.Item;
import io.modelpress.common.EventSchemas;
import io.modelpress.engine.data.NpzData;
import io.modelpress.engine.data.NpzWriter;
import io.modelpress.model.OnnxModel;
import io.modelpress.model.SaveOptions;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.eclipse.microprofile.config.ConfigProvider;

/** What the tests share: the service's S3 as a registry would fill it, events as a registry sends them. */
final class Fixtures {

    private Fixtures() {
    }

    static MinioClient s3() {
        var config = ConfigProvider.getConfig();
        return LocalStackResource.client(config.getValue("modelpress.s3.endpoint", String.class),
                config.getValue("modelpress.s3.access-key", String.class),
                config.getValue("modelpress.s3.secret-key", String.class));
    }

    static String bootstrapServers() {
        return ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class);
    }

    /**
     * Stores a model the way MLflow logs one: {@code <folder>/model.onnx} with its tensors in a
     * UUID-named file beside it, plus a small MLmodel file.
     *
     * @return the artifact URI of model.onnx
     */
    static String storeWithExternalData(MinioClient s3, OnnxModel model, String folder, Path temp) throws Exception {
        Path dir = Files.createDirectories(temp.resolve(UUID.randomUUID().toString()));
        String dataName = UUID.randomUUID().toString().replace("-", "");
        model.save(dir.resolve("model.onnx"), SaveOptions.external(dataName));
        put(s3, folder + "/model.onnx", Files.readAllBytes(dir.resolve("model.onnx")));
        put(s3, folder + "/" + dataName, Files.readAllBytes(dir.resolve(dataName)));
        put(s3, folder + "/MLmodel", "flavors:\n  onnx: {}\n".getBytes());
        return "s3://" + LocalStackResource.BUCKET + "/" + folder + "/model.onnx";
    }

    static String storeFile(MinioClient s3, Path file, String key) throws Exception {
        put(s3, key, Files.readAllBytes(file));
        return "s3://" + LocalStackResource.BUCKET + "/" + key;
    }

    /**
     * What {@code numpy.savez} writes for one float input of rows of {@code width} values, with
     * int64 {@code labels} when given: the calibration and evaluation data a registry names.
     */
    static byte[] npz(String input, int width, float[] rows, long[] labels) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (NpzWriter npz = new NpzWriter(bytes)) {
            npz.floats(input, new long[] {rows.length / width, width}, rows);
            if (labels != null) {
                npz.longs(NpzData.LABELS, new long[] {labels.length}, labels);
            }
        }
        return bytes.toByteArray();
    }

    static void put(MinioClient s3, String key, byte[] bytes) throws Exception {
        s3.putObject(PutObjectArgs.builder().bucket(LocalStackResource.BUCKET).object(key)
                .stream(new ByteArrayInputStream(bytes), bytes.length, -1).build());
    }

    static byte[] get(MinioClient s3, String uri) throws Exception {
        S3Location location = S3Location.parse(uri);
        try (InputStream in = s3.getObject(GetObjectArgs.builder().bucket(location.bucket()).object(location.key()).build())) {
            return in.readAllBytes();
        }
    }

    /** Every object under a prefix with its ETag, to see what was stored and whether it changed. */
    static Map<String, String> list(MinioClient s3, String prefix) throws Exception {
        Map<String, String> objects = new TreeMap<>();
        for (Result<Item> result : s3.listObjects(ListObjectsArgs.builder().bucket(LocalStackResource.BUCKET).prefix(prefix)
                .recursive(true).build())) {
            Item item = result.get();
            objects.put(item.objectName(), item.etag() + "/" + item.size());
        }
        return objects;
    }

    /**
     * A model-registered event's data, with the sha256 of the stored model file as a registry
     * sends it (a URI with no object behind it gets a digest of nothing).
     */
    static ObjectNode registered(String modelId, String artifactUri, String... profiles) {
        ObjectNode data = unsigned(modelId, artifactUri, profiles);
        data.put("sha256", sha256Of(artifactUri));
        return data;
    }

    /** A model-registered event's data without a sha256. */
    static ObjectNode unsigned(String modelId, String artifactUri, String... profiles) {
        ObjectNode data = EventJson.mapper().createObjectNode();
        data.put("modelId", modelId);
        data.put("version", "1");
        data.put("artifactUri", artifactUri);
        data.put("format", "onnx");
        if (profiles.length > 0) {
            ArrayNode list = data.putArray("profiles");
            for (String profile : profiles) {
                list.add(profile);
            }
        }
        data.putObject("labels").put("team", "tests");
        return data;
    }

    static String sha256Of(String uri) {
        return sha256Of(s3(), uri);
    }

    static String sha256Of(MinioClient s3, String uri) {
        byte[] bytes;
        try {
            bytes = get(s3, uri);
        } catch (Exception e) {
            bytes = new byte[0];
        }
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static ObjectNode withChain(ObjectNode data, String... steps) {
        ArrayNode chain = data.putArray("chain");
        for (String step : steps) {
            chain.add(step);
        }
        return data;
    }

    /** Checks the CloudEvents attributes and the data against its schema. */
    static void assertValidEvent(EventLog.Event event, String type, String schema) {
        assertEquals("1.0", event.header("ce_specversion"), () -> "ce_specversion of " + event);
        assertEquals(type, event.header("ce_type"), () -> "ce_type of " + event);
        assertEquals("/modelpress/compressor", event.header("ce_source"));
        assertEquals(EventSchemas.uri(schema), event.header("ce_dataschema"));
        assertEquals("application/json", event.header("content-type"));
        assertTrue(event.header("ce_id") != null && !event.header("ce_id").isBlank(), "ce_id");
        assertTrue(event.header("ce_time") != null, "ce_time");
        List<String> problems = EventSchemas.validate(schema, event.data());
        assertTrue(problems.isEmpty(), () -> schema + " event does not match its schema: " + problems + "\n" + event.data());
    }

    /** Validates every event of the log of one key against the schema of its topic. */
    static void assertAllValid(List<EventLog.Event> events) {
        List<String> checked = new ArrayList<>();
        for (EventLog.Event event : events) {
            switch (event.topic()) {
                case EventLog.RESULTS -> assertValidEvent(event, "io.modelpress.compression.result", EventSchemas.COMPRESSION_RESULT);
                case EventLog.BENCHMARKS -> assertValidEvent(event, "io.modelpress.benchmark", EventSchemas.BENCHMARK);
                case EventLog.PROGRESS -> assertValidEvent(event, "io.modelpress.compression.progress", EventSchemas.PROGRESS);
                case EventLog.FAILURES -> assertValidEvent(event, "io.modelpress.compression.failure", EventSchemas.FAILURE);
                default -> throw new AssertionError("unexpected topic " + event.topic());
            }
            checked.add(event.topic());
        }
        assertTrue(!checked.isEmpty(), "no events to check");
    }
}
