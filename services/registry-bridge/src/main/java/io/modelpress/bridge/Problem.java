package io.modelpress.bridge;

import com.fasterxml.jackson.annotation.JsonInclude;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;

/**
 * An RFC 9457 problem ({@code application/problem+json}): what went wrong in one line, and for bad input
 * the field at fault.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Problem(String type, String title, int status, String detail, String field) {

    public static final String MEDIA_TYPE = "application/problem+json";

    public static WebApplicationException of(int status, String title, String field, String detail) {
        Problem problem = new Problem("about:blank", title, status, detail, field);
        return new WebApplicationException(detail, Response.status(status).type(MEDIA_TYPE).entity(problem).build());
    }

    public static WebApplicationException badField(String field, String detail) {
        return of(400, "Bad input", field, field + ": " + detail);
    }
}
