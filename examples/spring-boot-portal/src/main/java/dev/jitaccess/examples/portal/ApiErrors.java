package dev.jitaccess.examples.portal;

import dev.jitaccess.api.AccessDeniedException;
import dev.jitaccess.api.AuthenticationException;
import dev.jitaccess.api.ProviderException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.bind.MissingServletRequestParameterException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import org.springframework.web.servlet.resource.NoResourceFoundException;

/**
 * Maps exceptions to status codes with a JSON {@link ApiError} body: a denial is 403, bad input 400, an unknown
 * thing 404, a request in the wrong state 409.
 */
@RestControllerAdvice
public class ApiErrors {
  private static final Logger log = LoggerFactory.getLogger(ApiErrors.class);

  /** Spring creates it. */
  public ApiErrors() {}

  @ExceptionHandler(AccessDeniedException.class)
  ResponseEntity<ApiError> denied(AccessDeniedException e) {
    return answer(HttpStatus.FORBIDDEN, "forbidden", e.reason());
  }

  @ExceptionHandler(AuthenticationException.class)
  ResponseEntity<ApiError> unauthenticated(AuthenticationException e) {
    return answer(HttpStatus.UNAUTHORIZED, "unauthenticated", e.getMessage());
  }

  @ExceptionHandler(IllegalArgumentException.class)
  ResponseEntity<ApiError> badInput(IllegalArgumentException e) {
    return answer(HttpStatus.BAD_REQUEST, "bad_request", e.getMessage());
  }

  @ExceptionHandler({HttpMessageNotReadableException.class, MissingServletRequestParameterException.class,
      MethodArgumentTypeMismatchException.class})
  ResponseEntity<ApiError> unreadable(Exception e) {
    return answer(HttpStatus.BAD_REQUEST, "bad_request", "the request is malformed: " + e.getMessage());
  }

  @ExceptionHandler(IllegalStateException.class)
  ResponseEntity<ApiError> conflict(IllegalStateException e) {
    return answer(HttpStatus.CONFLICT, "conflict", e.getMessage());
  }

  @ExceptionHandler(NotFoundException.class)
  ResponseEntity<ApiError> notFound(NotFoundException e) {
    return answer(HttpStatus.NOT_FOUND, "not_found", e.getMessage());
  }

  @ExceptionHandler(NoResourceFoundException.class)
  ResponseEntity<ApiError> noSuchEndpoint(NoResourceFoundException e) {
    return answer(HttpStatus.NOT_FOUND, "not_found", "no such endpoint: /" + e.getResourcePath());
  }

  @ExceptionHandler(ProviderException.class)
  ResponseEntity<ApiError> unavailable(ProviderException e) {
    log.warn("A jit-access provider failed: {}", e.getMessage(), e);
    return answer(HttpStatus.SERVICE_UNAVAILABLE, "unavailable", "a backend failed; try again later");
  }

  private static ResponseEntity<ApiError> answer(HttpStatus status, String code, String message) {
    return ResponseEntity.status(status).body(new ApiError(code, message));
  }
}
