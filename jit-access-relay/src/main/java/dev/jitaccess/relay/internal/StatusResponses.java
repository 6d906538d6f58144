package dev.jitaccess.relay.internal;

import com.nimbusds.jose.util.JSONObjectUtils;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Kubernetes {@code Status} answers ({@code kubectl} prints their {@code message}). */
public final class StatusResponses {

  private StatusResponses() {}

  /**
   * A failure {@code Status} response.
   *
   * @param alloc the allocator for the body
   * @param status the HTTP status
   * @param message the message kubectl shows
   * @return the response with {@code Content-Type: application/json} and {@code Content-Length}
   */
  public static FullHttpResponse status(ByteBufAllocator alloc, HttpResponseStatus status, String message) {
    return status(alloc, status, message, 0);
  }

  /**
   * A failure {@code Status} response that asks the client to retry later (429, 503): a {@code Retry-After} header
   * and {@code details.retryAfterSeconds}, which client-go honours.
   *
   * @param alloc the allocator for the body
   * @param status the HTTP status
   * @param message the message kubectl shows
   * @param retryAfterSeconds seconds to wait before retrying; 0 for no retry hint
   * @return the response with {@code Content-Type: application/json} and {@code Content-Length}
   */
  public static FullHttpResponse status(
      ByteBufAllocator alloc, HttpResponseStatus status, String message, int retryAfterSeconds) {
    byte[] json = json(status, message, retryAfterSeconds).getBytes(StandardCharsets.UTF_8);
    ByteBuf body = alloc.buffer(json.length).writeBytes(json);
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
    response.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
        .setInt(HttpHeaderNames.CONTENT_LENGTH, json.length)
        .set(HttpHeaderNames.CACHE_CONTROL, "no-store");
    if (retryAfterSeconds > 0) {
      response.headers().setInt(HttpHeaderNames.RETRY_AFTER, retryAfterSeconds);
    }
    if (status.code() == 401) {
      response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
    }
    return response;
  }

  /**
   * The JSON of a failure {@code Status}.
   *
   * @param status the HTTP status
   * @param message the message
   * @return the JSON text
   */
  public static String json(HttpResponseStatus status, String message) {
    return json(status, message, 0);
  }

  private static String json(HttpResponseStatus status, String message, int retryAfterSeconds) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("kind", "Status");
    body.put("apiVersion", "v1");
    body.put("metadata", Map.of());
    body.put("status", "Failure");
    body.put("message", message);
    body.put("reason", reason(status.code()));
    if (retryAfterSeconds > 0) {
      body.put("details", Map.of("retryAfterSeconds", retryAfterSeconds));
    }
    body.put("code", status.code());
    return JSONObjectUtils.toJSONString(body);
  }

  private static String reason(int code) {
    return switch (code) {
      case 400, 431 -> "BadRequest";
      case 401 -> "Unauthorized";
      case 403 -> "Forbidden";
      case 404 -> "NotFound";
      case 405 -> "MethodNotAllowed";
      case 413 -> "RequestEntityTooLarge";
      case 429 -> "TooManyRequests";
      case 503 -> "ServiceUnavailable";
      case 504 -> "Timeout";
      default -> "InternalError";
    };
  }
}
