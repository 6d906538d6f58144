package dev.jitaccess.examples.quarkus;

import dev.jitaccess.api.AccessDeniedException;
import dev.jitaccess.api.AuthenticationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Turns the engine's and the portal's exceptions into JSON answers with a clear status. */
public class ErrorMappers {
  @ServerExceptionMapper
  Response denied(AccessDeniedException e) {
    return json(Response.Status.FORBIDDEN, new ErrorBody("access_denied", e.reason()));
  }

  @ServerExceptionMapper
  Response unauthenticated(AuthenticationException e) {
    return json(Response.Status.UNAUTHORIZED, new ErrorBody("unauthenticated", e.getMessage()));
  }

  @ServerExceptionMapper
  Response missingUser(MissingUser e) {
    return json(Response.Status.UNAUTHORIZED, new ErrorBody("unauthenticated", e.getMessage()));
  }

  @ServerExceptionMapper
  Response badRequest(BadRequest e) {
    return json(Response.Status.BAD_REQUEST, new ErrorBody("bad_request", e.getMessage()));
  }

  private static Response json(Response.Status status, ErrorBody body) {
    return Response.status(status).type(MediaType.APPLICATION_JSON).entity(body).build();
  }
}
