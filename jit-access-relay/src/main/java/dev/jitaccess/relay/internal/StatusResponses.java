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

/**
 * The relay's own failure answers: Kubernetes {@code Status} objects ({@code kubectl} prints their {@code
 * message}), or plain text for the discovery requests whose answers client-go reads raw.
 */
public final class StatusResponses {
  private static final String TEXT_PLAIN_UTF8 = "text/plain; charset=utf-8";

  private StatusResponses() {}

  /**
   * Whether client-go (kubectl) reads the relay's failure answer to this request only if it is text.
   *
   * <p>client-go fetches {@code /api}, {@code /apis}, {@code /version} and {@code /openapi/...} with
   * {@code Result.Raw()}, which returns the error it built from the status code alone: its message is the
   * body only when the {@code Content-Type} is {@code text/*}, and the word {@code unknown} for a JSON
   * {@code Status} (so a denied user's {@code kubectl get ns} printed {@code Error from server (Forbidden):
   * unknown} during discovery). Every other request is decoded, and a JSON {@code Status} shows its message.
   *
   * @param method the request method
   * @param path the Kubernetes path, without query
   * @return true to answer failures as {@code text/plain}
   */
  public static boolean readAsText(String method, String path) {
    if (!"GET".equals(method)) {
      return false;
    }
    String p = path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    return p.equals("/api") || p.equals("/apis") || p.equals("/version") || p.startsWith("/openapi/");
  }

  /**
   * A failure answer: a {@code Status}, or its message as plain text.
   *
   * @param alloc the allocator for the body
   * @param status the HTTP status
   * @param message the message kubectl shows
   * @param plainText whether to send the message as {@code text/plain} (see {@link #readAsText})
   * @return the response with {@code Content-Type} and {@code Content-Length}
   */
  public static FullHttpResponse status(
      ByteBufAllocator alloc, HttpResponseStatus status, String message, boolean plainText) {
    return status(alloc, status, message, plainText, 0);
  }

  /**
   * A failure answer that may ask the client to retry later (429, 503): a {@code Retry-After} header and, in a
   * {@code Status}, {@code details.retryAfterSeconds}, which client-go honours.
   *
   * @param alloc the allocator for the body
   * @param status the HTTP status
   * @param message the message kubectl shows
   * @param plainText whether to send the message as {@code text/plain} (see {@link #readAsText})
   * @param retryAfterSeconds seconds to wait before retrying; 0 for no retry hint
   * @return the response with {@code Content-Type} and {@code Content-Length}
   */
  public static FullHttpResponse status(
      ByteBufAllocator alloc,
      HttpResponseStatus status,
      String message,
      boolean plainText,
      int retryAfterSeconds) {
    FullHttpResponse response =
        plainText
            ? response(alloc, status, (message + "\n").getBytes(StandardCharsets.UTF_8), TEXT_PLAIN_UTF8)
            : response(
                alloc,
                status,
                json(status, message, retryAfterSeconds).getBytes(StandardCharsets.UTF_8),
                HttpHeaderValues.APPLICATION_JSON.toString());
    if (retryAfterSeconds > 0) {
      response.headers().setInt(HttpHeaderNames.RETRY_AFTER, retryAfterSeconds);
    }
    return response;
  }

  /**
   * A failure {@code Status} response.
   *
   * @param alloc the allocator for the body
   * @param status the HTTP status
   * @param message the message kubectl shows
   * @return the response with {@code Content-Type: application/json} and {@code Content-Length}
   */
  public static FullHttpResponse status(ByteBufAllocator alloc, HttpResponseStatus status, String message) {
    return status(alloc, status, message, false, 0);
  }

  private static FullHttpResponse response(
      ByteBufAllocator alloc, HttpResponseStatus status, byte[] content, String contentType) {
    ByteBuf body = alloc.buffer(content.length).writeBytes(content);
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
    response.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, contentType)
        .setInt(HttpHeaderNames.CONTENT_LENGTH, content.length)
        .set(HttpHeaderNames.CACHE_CONTROL, "no-store");
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
