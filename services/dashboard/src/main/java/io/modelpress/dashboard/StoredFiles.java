package io.modelpress.dashboard;

import io.minio.GetObjectArgs;
import io.minio.GetObjectResponse;
import io.minio.MinioClient;
import io.minio.errors.ErrorResponseException;
import io.modelpress.common.TrustedCertificates;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The artifacts and reports the result events point at, fetched from S3 with the service's
 * credentials (a browser cannot open s3:// links). Only URIs that an event named are served: the
 * dashboard is no open proxy to the bucket.
 */
@Path("/api/file")
public class StoredFiles {

    private final DashboardState state;
    private final Optional<MinioClient> s3;

    @Inject
    public StoredFiles(DashboardState state, @ConfigProperty(name = "modelpress.s3.endpoint") Optional<String> endpoint,
            @ConfigProperty(name = "modelpress.s3.access-key") Optional<String> accessKey,
            @ConfigProperty(name = "modelpress.s3.secret-key") Optional<String> secretKey,
            @ConfigProperty(name = "modelpress.s3.region", defaultValue = "us-east-1") String region,
            @ConfigProperty(name = "modelpress.s3.ca-file") Optional<java.nio.file.Path> caFile,
            @ConfigProperty(name = "modelpress.s3.trust-jdk-cas", defaultValue = "true") boolean trustJdkCas) {
        this.state = state;
        this.s3 = endpoint.filter(value -> !value.isBlank()).map(value -> {
            MinioClient.Builder builder = MinioClient.builder().endpoint(value)
                    .credentials(accessKey.orElse(""), secretKey.orElse("")).region(region);
            // an https endpoint with a private CA: its certificates trusted besides (or instead of) the JDK's
            caFile.ifPresent(ca -> builder.httpClient(TrustedCertificates.httpClient(ca, trustJdkCas)));
            return builder.build();
        });
    }

    @GET
    public Response get(@QueryParam("uri") String uri) {
        if (uri == null || !uri.startsWith("s3://")) {
            return text(400, "give the file as ?uri=s3://bucket/key");
        }
        if (!state.knows(uri)) {
            return text(404, "no event names " + uri);
        }
        if (s3.isEmpty()) {
            return text(503, "this dashboard has no S3 endpoint configured (MODELPRESS_S3_ENDPOINT); the file is at " + uri);
        }
        URI parsed = URI.create(uri);
        String key = parsed.getPath().startsWith("/") ? parsed.getPath().substring(1) : parsed.getPath();
        try {
            GetObjectResponse object = s3.get().getObject(GetObjectArgs.builder().bucket(parsed.getHost()).object(key).build());
            String name = key.substring(key.lastIndexOf('/') + 1);
            Response.ResponseBuilder response = Response.ok(object).type(type(name));
            if (!name.endsWith(".html") && !name.endsWith(".json")) {
                response.header("Content-Disposition", "attachment; filename=\"" + name.replace("\"", "") + "\"");
            }
            return response.build();
        } catch (ErrorResponseException e) {
            return text(404, "S3 has no " + uri + ": " + e.errorResponse().code());
        } catch (Exception e) {
            return text(502, "cannot read " + uri + " from S3: " + e.getMessage());
        }
    }

    private static String type(String name) {
        if (name.endsWith(".html")) {
            return "text/html; charset=utf-8";
        }
        return name.endsWith(".json") ? "application/json" : "application/octet-stream";
    }

    private static Response text(int status, String message) {
        return Response.status(status).type("text/plain; charset=utf-8").entity(message + "\n").build();
    }
}
