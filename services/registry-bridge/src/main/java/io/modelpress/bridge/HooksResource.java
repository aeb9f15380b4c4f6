package io.modelpress.bridge;

import io.modelpress.bridge.registry.Bridge;
import io.modelpress.bridge.registry.WebhookReceiver;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Map;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.jboss.logging.Logger;

/** MLflow's webhook deliveries. The raw body is read as bytes: the signature covers it exactly as sent. */
@Path("/hooks")
public class HooksResource {

    private static final Logger LOG = Logger.getLogger(HooksResource.class);

    @Inject
    Bridge bridge;

    @POST
    @Path("/mlflow")
    @Consumes(MediaType.WILDCARD)
    @Produces({MediaType.APPLICATION_JSON, Problem.MEDIA_TYPE})
    @Blocking
    @Operation(summary = "Receive an MLflow webhook delivery",
            description = "model_version.created (and the configured trigger tag or alias) queues the version for"
                    + " compression: 202 accepted, 200 duplicate (a retry of a delivery already accepted) or ignored"
                    + " (an event the bridge does not act on), 401 bad or missing signature or a timestamp outside"
                    + " the window, 400 a body it cannot read.")
    public Response mlflow(@HeaderParam("X-MLflow-Delivery-Id") String deliveryId,
            @HeaderParam("X-MLflow-Timestamp") String timestamp, @HeaderParam("X-MLflow-Signature") String signature,
            byte[] body) {
        WebhookReceiver.Answer answer = bridge.webhooks().receive(deliveryId, timestamp, signature,
                body == null ? new byte[0] : body);
        if (answer.status() >= 400) {
            LOG.warnf("MLflow delivery %s refused (%d): %s", deliveryId, answer.status(), answer.message());
            String field = answer.message().startsWith("header ") ? answer.message().split(" ")[1] : null;
            return Response.status(answer.status()).type(Problem.MEDIA_TYPE).entity(new Problem("about:blank",
                    answer.status() == 401 ? "Unauthorized delivery" : "Bad delivery", answer.status(), answer.message(),
                    field)).build();
        }
        LOG.infof("MLflow delivery %s %s: %s", deliveryId, answer.outcome(), answer.message());
        return Response.status(answer.status()).type(MediaType.APPLICATION_JSON)
                .entity(Map.of("outcome", answer.outcome(), "message", answer.message())).build();
    }
}
