package io.modelpress.bridge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.modelpress.bridge.registry.Bridge;
import io.modelpress.bridge.registry.Delivery;
import io.modelpress.bridge.registry.Json;
import io.modelpress.bridge.registry.ModelStatus;
import io.modelpress.bridge.registry.ObjectStore;
import io.modelpress.bridge.registry.Tags;
import io.modelpress.common.EventSchemas;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.parameters.RequestBody;
import org.jboss.resteasy.reactive.PartType;
import org.jboss.resteasy.reactive.RestForm;
import org.jboss.resteasy.reactive.multipart.FileUpload;

/**
 * The plain upload API for registries without webhooks: {@code POST /models} stores the files and queues
 * the model-registered event; {@code GET /models/{id}/{version}} tells how far it got, per profile.
 */
@Path("/models")
public class ModelsResource {

    private static final Set<String> METADATA_FIELDS = Set.of("modelId", "version", "profiles", "budgets", "labels",
            "chain");
    private static final Pattern FILE_NAME = Pattern.compile("^[A-Za-z0-9._-][A-Za-z0-9._ -]{0,199}$");

    @Inject
    Bridge bridge;

    @Inject
    ObjectStore store;

    @Inject
    BridgeConfig config;

    @POST
    @Consumes(MediaType.MULTIPART_FORM_DATA)
    @Produces({MediaType.APPLICATION_JSON, Problem.MEDIA_TYPE})
    @Blocking
    @Operation(summary = "Upload a model for compression",
            description = "Parts: 'metadata' (JSON: modelId, version, and optionally profiles, budgets, labels, chain,"
                    + " as in model-registered.schema.json), 'model' (the .onnx file), 'externalData' (zero or more"
                    + " external-data files, named as the model references them), 'calibration' and 'evaluation'"
                    + " (.npz). Answers 202 with the status and its location; bad input is a problem+json naming the field.")
    @RequestBody(required = true)
    public Response upload(@RestForm("metadata") @PartType(MediaType.TEXT_PLAIN) String metadata,
            @RestForm("model") FileUpload model, @RestForm("externalData") List<FileUpload> externalData,
            @RestForm("calibration") FileUpload calibration, @RestForm("evaluation") FileUpload evaluation) {
        ObjectNode data = readMetadata(metadata);
        String modelId = data.path("modelId").asText();
        String version = data.path("version").asText();
        List<FileUpload> extra = externalData == null ? List.of() : externalData;
        checkFiles(model, extra, calibration, evaluation);
        if (bridge.status().get(modelId, version).isPresent()) {
            throw Problem.of(409, "Already registered", "metadata.version", "metadata.version: " + modelId + " version "
                    + version + " was registered before; upload it under a new version");
        }
        String folder = bridge.settings().copyPrefix() + "/upload/" + modelId + "/" + version + "/";
        String bucket = bridge.settings().bucket();
        store.upload(model.uploadedFile(), bucket, folder + "model/" + model.fileName());
        for (FileUpload file : extra) {
            store.upload(file.uploadedFile(), bucket, folder + "model/" + file.fileName());
        }
        data.put("artifactUri", "s3://" + bucket + "/" + folder + "model/" + model.fileName());
        data.put("format", "onnx");
        data.put("sizeBytes", model.size());
        data.put("sha256", ObjectStore.sha256(model.uploadedFile()));
        if (calibration != null) {
            store.upload(calibration.uploadedFile(), bucket, folder + "data/calibration.npz");
            data.put("calibrationDataUri", "s3://" + bucket + "/" + folder + "data/calibration.npz");
        }
        if (evaluation != null) {
            store.upload(evaluation.uploadedFile(), bucket, folder + "data/evaluation.npz");
            data.put("evaluationDataUri", "s3://" + bucket + "/" + folder + "data/evaluation.npz");
        }
        ((ObjectNode) data.with("labels")).put(Tags.REGISTRY_LABEL, Delivery.UPLOAD);
        schemaCheck(data);
        String uploadId = UUID.randomUUID().toString();
        String key = Delivery.uploadKey(modelId, version);
        if (!bridge.accept(new Delivery(key, Delivery.UPLOAD, uploadId, modelId, version, "upload", bridge.now(), 0,
                bridge.now(), data))) {
            throw Problem.of(409, "Already registered", "metadata.version", "metadata.version: " + modelId + " version "
                    + version + " was registered before; upload it under a new version");
        }
        return Response.accepted(bridge.status().get(modelId, version).orElseThrow()).location(location(modelId, version))
                .type(MediaType.APPLICATION_JSON).build();
    }

    @GET
    @Path("/{id: .+}/{version: [^/]+}")
    @Produces({MediaType.APPLICATION_JSON, Problem.MEDIA_TYPE})
    @Operation(summary = "Status of a model version",
            description = "state: accepted, published or failed (with reason); per profile: pending, complete (with"
                    + " the compressed artifact, its report, size ratio, drop and what judged it) or failed (with reason).")
    public ModelStatus status(@PathParam("id") String id, @PathParam("version") String version) {
        return bridge.status().get(id, version).orElseThrow(() -> Problem.of(404, "Unknown model version", null,
                "no model " + id + " version " + version + " is known to this bridge"));
    }

    private ObjectNode readMetadata(String metadata) {
        if (metadata == null || metadata.isBlank()) {
            throw Problem.badField("metadata", "the JSON part is missing (modelId, version, ...)");
        }
        JsonNode node;
        try {
            node = Json.mapper().readTree(metadata);
        } catch (IOException e) {
            throw Problem.badField("metadata", "not JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (node == null || !node.isObject()) {
            throw Problem.badField("metadata", "must be a JSON object");
        }
        List<String> unknown = new ArrayList<>();
        node.fieldNames().forEachRemaining(field -> {
            if (!METADATA_FIELDS.contains(field)) {
                unknown.add(field);
            }
        });
        if (!unknown.isEmpty()) {
            throw Problem.badField("metadata." + unknown.get(0), "unknown field; allowed: "
                    + String.join(", ", METADATA_FIELDS.stream().sorted().toList()));
        }
        for (String required : List.of("modelId", "version")) {
            if (!node.path(required).isTextual() || node.path(required).asText().isBlank()) {
                throw Problem.badField("metadata." + required, "required, a string");
            }
        }
        if (node.path("version").asText().contains("/")) {
            throw Problem.badField("metadata.version", "may not contain '/'");
        }
        return (ObjectNode) node;
    }

    private void checkFiles(FileUpload model, List<FileUpload> extra, FileUpload calibration, FileUpload evaluation) {
        if (model == null) {
            throw Problem.badField("model", "the .onnx file part is missing");
        }
        if (!model.fileName().endsWith(".onnx") || !FILE_NAME.matcher(model.fileName()).matches()) {
            throw Problem.badField("model", "'" + model.fileName() + "' must be a plain file name ending in .onnx");
        }
        long total = model.size();
        for (FileUpload file : extra) {
            if (!FILE_NAME.matcher(file.fileName()).matches() || file.fileName().equals(model.fileName())) {
                throw Problem.badField("externalData", "'" + file.fileName() + "' must be a plain file name, not the"
                        + " model's");
            }
            total += file.size();
        }
        for (FileUpload data : new FileUpload[] {calibration, evaluation}) {
            if (data != null) {
                if (!data.fileName().endsWith(".npz")) {
                    throw Problem.badField(data.name(), "'" + data.fileName() + "' must be a .npz file (numpy.savez)");
                }
                total += data.size();
            }
        }
        long limit = config.upload().maxBytes();
        if (total > limit) {
            throw Problem.of(413, "Upload too large", "model", "model: the files come to " + total
                    + " bytes, over the limit of " + limit + " (modelpress.bridge.upload.max-bytes)");
        }
    }

    private static void schemaCheck(ObjectNode data) {
        List<String> problems = EventSchemas.validate(EventSchemas.MODEL_REGISTERED, data);
        if (!problems.isEmpty()) {
            String first = problems.get(0);
            String field = first.contains(":") ? first.substring(0, first.indexOf(':')).replaceFirst("^data", "metadata")
                    : "metadata";
            throw Problem.of(400, "Bad input", field, String.join("; ", problems).replace("data.", "metadata."));
        }
    }

    static URI location(String modelId, String version) {
        StringBuilder path = new StringBuilder("/models");
        for (String segment : modelId.split("/")) {
            path.append('/').append(URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20"));
        }
        return URI.create(path + "/" + URLEncoder.encode(version, StandardCharsets.UTF_8).replace("+", "%20"));
    }
}
