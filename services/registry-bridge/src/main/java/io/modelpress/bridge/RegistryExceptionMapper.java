package io.modelpress.bridge;

import io.modelpress.bridge.registry.RegistryException;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;

/** Storage or registry trouble during a request: 503 when it may pass, else 502, as problem+json. */
@Provider
public class RegistryExceptionMapper implements ExceptionMapper<RegistryException> {

    @Override
    public Response toResponse(RegistryException e) {
        int status = e.retryable() ? 503 : 502;
        return Response.status(status).type(Problem.MEDIA_TYPE).entity(new Problem("about:blank",
                e.retryable() ? "Storage or registry unavailable" : "Storage or registry refused", status, e.getMessage(),
                null)).build();
    }
}
