package io.modelpress.cli;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.minio.BucketExistsArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.UploadObjectArgs;
import io.modelpress.engine.EngineException;
import io.modelpress.model.Graphs;
import io.modelpress.model.ModelDigest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * What a model registry does when a model version is published: store its files in S3 under a
 * folder of their own, then announce it on {@code modelpress.model-registered} as a binary-mode
 * CloudEvent keyed by the model id.
 */
final class ModelRegistrar implements AutoCloseable {

    static final String TOPIC = "modelpress.model-registered";
    static final String EVENT_TYPE = "io.modelpress.model.registered";
    static final String SOURCE = "/modelpress/demo";
    private static final Duration SEND_TIMEOUT = Duration.ofSeconds(30);

    private final MinioClient s3;
    private final String bucket;
    private final KafkaProducer<String, String> producer;
    private final ObjectMapper json = new ObjectMapper();

    ModelRegistrar(DemoEndpoints endpoints) {
        this.s3 = MinioClient.builder().endpoint(endpoints.s3Endpoint().toString())
                .credentials(endpoints.accessKey(), endpoints.secretKey()).region("us-east-1").build();
        this.bucket = endpoints.bucket();
        Properties config = new Properties();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, endpoints.bootstrapServers());
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, String.valueOf(SEND_TIMEOUT.toMillis()));
        this.producer = new KafkaProducer<>(config);
    }

    /** Creates the bucket unless it exists. */
    void ensureBucket() {
        try {
            if (!s3.bucketExists(BucketExistsArgs.builder().bucket(bucket).build())) {
                s3.makeBucket(MakeBucketArgs.builder().bucket(bucket).build());
            }
        } catch (Exception e) {
            throw new EngineException("cannot create bucket " + bucket + ": " + e.getMessage(), e);
        }
    }

    /** Uploads one file to {@code key}; returns its {@code s3://} URI. */
    String upload(Path file, String key) {
        try {
            s3.uploadObject(UploadObjectArgs.builder().bucket(bucket).object(key).filename(file.toString()).build());
        } catch (Exception e) {
            throw new EngineException("cannot upload " + file + " to s3://" + bucket + "/" + key + ": " + e.getMessage(), e);
        }
        return "s3://" + bucket + "/" + key;
    }

    /**
     * Uploads a model file and the external data files it names into {@code folder}; returns the
     * model's URI. Only these go there: the service fetches every object of the folder.
     */
    String uploadModel(Path model, String folder) {
        String uri = upload(model, folder + model.getFileName());
        for (String data : externalDataFiles(model)) {
            Path file = model.resolveSibling(data);
            if (!Files.isRegularFile(file)) {
                throw new EngineException(model + " keeps tensors in " + data + ", which is not beside it");
            }
            upload(file, folder + data);
        }
        return uri;
    }

    /** Publishes a model-registered event; returns its CloudEvents id. */
    String register(ObjectNode data) {
        String id = UUID.randomUUID().toString();
        String modelId = data.path("modelId").asText();
        ProducerRecord<String, String> record = new ProducerRecord<>(TOPIC, modelId, data.toString());
        header(record, "ce_specversion", "1.0");
        header(record, "ce_id", id);
        header(record, "ce_source", SOURCE);
        header(record, "ce_type", EVENT_TYPE);
        header(record, "ce_subject", modelId);
        header(record, "ce_time", Instant.now().toString());
        header(record, "content-type", "application/json");
        try {
            producer.send(record).get(SEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new EngineException("cannot publish to " + TOPIC + ": " + (e.getCause() == null ? e : e.getCause()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException("interrupted while publishing to " + TOPIC, e);
        }
        return id;
    }

    /** A model-registered event's data, as schemas/model-registered.schema.json describes it. */
    ObjectNode event(String modelId, String version, String artifactUri, Path model, List<String> profiles) {
        ObjectNode data = json.createObjectNode();
        data.put("modelId", modelId);
        data.put("version", version);
        data.put("artifactUri", artifactUri);
        data.put("format", "onnx");
        SortedMap<String, Path> external = new TreeMap<>();
        externalDataFiles(model).forEach(name -> external.put(name, model.resolveSibling(name)));
        data.put("sha256", ModelDigest.of(model, external));
        data.put("sizeBytes", size(model));
        if (!profiles.isEmpty()) {
            profiles.forEach(data.putArray("profiles")::add);
        }
        data.putObject("labels").put("registered-by", "modelpress demo");
        return data;
    }

    /** The files named by the model's tensors stored outside it, in name order. */
    static SortedSet<String> externalDataFiles(Path model) {
        ModelProto proto;
        try (InputStream in = Files.newInputStream(model)) {
            proto = ModelProto.parseFrom(in);
        } catch (IOException e) {
            throw new EngineException(model + " is not an ONNX model: " + e.getMessage(), e);
        }
        SortedSet<String> files = new TreeSet<>();
        Graphs.forEach(proto, (path, graph) -> {
            for (TensorProto tensor : graph.getInitializerList()) {
                if (tensor.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
                    tensor.getExternalDataList().stream().filter(entry -> entry.getKey().equals("location"))
                            .map(StringStringEntryProto::getValue).forEach(files::add);
                }
            }
        });
        return files;
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new EngineException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static void header(ProducerRecord<String, String> record, String name, String value) {
        record.headers().add(name, value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
    }
}
