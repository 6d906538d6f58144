package dev.jitaccess.core;

import com.nimbusds.jose.util.JSONObjectUtils;
import dev.jitaccess.api.AccessRequestState;
import dev.jitaccess.api.Notification;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.spi.Notifier;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Notifier} that POSTs each notification as JSON ({@code Content-Type: application/json}) to a URL,
 * such as a chat webhook relay or a ticketing system. The body is documented in
 * {@code docs/access-requests.md}; it carries ids, roles, permissions, status and times, the justification
 * and comments, and never a token.
 *
 * <p>Delivery is synchronous with a timeout (connect and response, default {@link #DEFAULT_TIMEOUT}), once,
 * without retries. A failure (connection error, timeout, a status other than 2xx) is logged at WARN with the
 * request id and never thrown: a broken webhook must not break approvals.
 *
 * <p>Immutable and thread-safe.
 *
 * @since 0.2.0
 */
public final class WebhookNotifier implements Notifier {
  /** The default {@link Builder#timeout}: 5 seconds. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

  private static final Logger log = LoggerFactory.getLogger(WebhookNotifier.class);

  private final URI uri;
  private final Duration timeout;
  private final HttpClient client;

  private WebhookNotifier(Builder b) {
    this.uri = Objects.requireNonNull(b.uri);
    this.timeout = b.timeout;
    this.client =
        HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
  }

  /**
   * A builder; {@link Builder#uri(URI)} is required.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Posts the notification; never throws for delivery failures (they are logged).
   *
   * @param notification what happened; not null
   * @throws NullPointerException if {@code notification} is null
   */
  @Override
  public void notify(Notification notification) {
    Objects.requireNonNull(notification, "notification");
    String requestId = notification.request().id();
    HttpRequest request =
        HttpRequest.newBuilder(uri)
            .timeout(timeout)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json(notification)))
            .build();
    try {
      HttpResponse<Void> response = client.send(request, HttpResponse.BodyHandlers.discarding());
      if (response.statusCode() / 100 != 2) {
        log.warn(
            "Webhook {} answered {} to the {} notification of access request {}; it was not delivered",
            uri,
            response.statusCode(),
            notification.kind(),
            requestId);
      }
    } catch (IOException e) {
      log.warn(
          "Webhook {} failed for the {} notification of access request {}: {}",
          uri,
          notification.kind(),
          requestId,
          e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      log.warn("Interrupted while posting the {} notification of access request {}", notification.kind(), requestId);
    }
  }

  @Override
  public String id() {
    return "webhook";
  }

  /** The JSON body of a notification, as documented in {@code docs/access-requests.md}. */
  static String json(Notification n) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("kind", n.kind().name());
    body.put("time", n.time().toString());
    putIfSet(body, "actor", n.actorId());
    putIfSet(body, "comment", n.comment());
    body.put("request", request(n.request()));
    return JSONObjectUtils.toJSONString(body);
  }

  private static Map<String, Object> request(AccessRequestState r) {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("id", r.id());
    json.put("requester", r.requester().id());
    json.put("cluster", r.cluster());
    json.put("roles", r.roles());
    List<Object> permissions = new ArrayList<>();
    for (Permission p : r.permissions()) {
      Map<String, Object> permission = new LinkedHashMap<>();
      permission.put("clusterRole", p.clusterRole());
      putIfSet(permission, "namespace", p.namespace());
      permissions.add(permission);
    }
    json.put("permissions", permissions);
    json.put("duration", r.duration().toString());
    json.put("justification", r.justification());
    json.put("status", r.status().name().toLowerCase(Locale.ROOT));
    json.put("createdAt", r.createdAt().toString());
    json.put("expiresAt", r.expiresAt().toString());
    json.put("requiredApprovals", r.requiredApprovals());
    json.put("approvals", r.approvals());
    List<Object> reviews = new ArrayList<>();
    for (AccessRequestState.Review review : r.reviews()) {
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("reviewer", review.reviewerId());
      entry.put("verdict", review.verdict().name().toLowerCase(Locale.ROOT));
      putIfSet(entry, "comment", review.comment());
      entry.put("at", review.at().toString());
      reviews.add(entry);
    }
    json.put("reviews", reviews);
    putIfSet(json, "activatedAt", r.activatedAt() == null ? null : r.activatedAt().toString());
    putIfSet(json, "activeUntil", r.activeUntil() == null ? null : r.activeUntil().toString());
    json.put("extensions", r.extensions());
    return json;
  }

  private static void putIfSet(Map<String, Object> json, String key, @Nullable Object value) {
    if (value != null) {
      json.put(key, value);
    }
  }

  @Override
  public String toString() {
    return "WebhookNotifier[" + uri + "]";
  }

  /**
   * Builds a {@link WebhookNotifier}. Each property may be set once. Not thread-safe.
   *
   * @since 0.2.0
   */
  public static final class Builder {
    private @Nullable URI uri;
    private Duration timeout = DEFAULT_TIMEOUT;
    private boolean timeoutSet;

    private Builder() {}

    /**
     * Sets where to POST; required.
     *
     * @param uri an absolute {@code http} or {@code https} URI
     * @return this builder
     * @throws NullPointerException if the argument is null
     * @throws IllegalArgumentException if it is not an absolute http(s) URI
     * @throws IllegalStateException if it was already set
     */
    public Builder uri(URI uri) {
      Objects.requireNonNull(uri, "uri");
      if (this.uri != null) {
        throw new IllegalStateException("uri was already set to " + this.uri);
      }
      String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
      if (!uri.isAbsolute() || !(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
        throw new IllegalArgumentException("uri must be an absolute http or https URI but was " + uri);
      }
      this.uri = uri;
      return this;
    }

    /**
     * Sets the connect and response timeout; default {@link #DEFAULT_TIMEOUT}.
     *
     * @param timeout a positive duration
     * @return this builder
     * @throws NullPointerException if the argument is null
     * @throws IllegalArgumentException if it is not positive
     * @throws IllegalStateException if it was already set
     */
    public Builder timeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeoutSet) {
        throw new IllegalStateException("timeout was already set to " + this.timeout);
      }
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("timeout must be positive but was " + timeout);
      }
      this.timeout = timeout;
      this.timeoutSet = true;
      return this;
    }

    /**
     * Builds the notifier.
     *
     * @return the notifier
     * @throws IllegalStateException if no {@link #uri(URI)} was set
     */
    public WebhookNotifier build() {
      if (uri == null) {
        throw new IllegalStateException("uri must be set: where should notifications be posted?");
      }
      return new WebhookNotifier(this);
    }
  }
}
