package dev.jitaccess.api;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One entry of the audit trail: a decision, a lifecycle change or a proxied call.
 *
 * <p>Audit events never carry a token, key or signature; where a credential must be identified they carry a
 * fingerprint. The {@code attributes} hold structured details (for a proxied call: method, path, status,
 * bytes, duration), copied and unmodifiable.
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @param time when it happened
 * @param type what happened
 * @param subjectId who, or {@code null} when unknown (a failed authentication)
 * @param cluster which cluster, or {@code null}
 * @param grantId the grant involved, or {@code null}
 * @param detail a human-readable detail such as a denial reason, or {@code null}
 * @param attributes structured details; possibly empty
 * @since 0.1.0
 */
public record AuditEvent(
    Instant time,
    Type type,
    @Nullable String subjectId,
    @Nullable String cluster,
    @Nullable String grantId,
    @Nullable String detail,
    Map<String, String> attributes) {

  /** What an {@link AuditEvent} records. */
  public enum Type {
    /** A bearer token was rejected. */
    AUTHENTICATION_FAILED,
    /** A grant was made (a policy evaluation said yes). */
    GRANTED,
    /** Access was refused: by policy, by a failing provider, or for hostile input. */
    DENIED,
    /** Grants were revoked. */
    REVOKED,
    /** A grant reached the end of its life. */
    EXPIRED,
    /** A request was proxied to a cluster (relay). */
    REQUEST,
    /** Accounts or bindings were created or removed in a cluster (agent). */
    PROVISIONED,
    /** Something degraded that an operator should see, such as a failing audit sink. */
    WARNING,
    /** An access request was made ({@code requestId}, {@code justification}, {@code roles} attributes). */
    REQUESTED,
    /** A reviewer approved an access request ({@code requestId}, {@code reviewer}). */
    APPROVED,
    /** A reviewer denied an access request ({@code requestId}, {@code reviewer}). */
    REJECTED,
    /** An access request got its last approval and is active ({@code requestId}, {@code reviewers}). */
    ACTIVATED,
    /** The requester withdrew an access request ({@code requestId}). */
    CANCELLED,
    /** The requester extended an active access request ({@code requestId}, {@code justification}). */
    EXTENDED
  }

  /**
   * Validates and copies the components.
   *
   * @throws NullPointerException if {@code time}, {@code type} or {@code attributes} (or an entry) is null
   */
  public AuditEvent {
    Objects.requireNonNull(time, "time");
    Objects.requireNonNull(type, "type");
    attributes = Map.copyOf(Objects.requireNonNull(attributes, "attributes"));
  }

  /**
   * An event without structured attributes.
   *
   * @param time when it happened
   * @param type what happened
   * @param subjectId who, or {@code null}
   * @param cluster which cluster, or {@code null}
   * @param grantId the grant involved, or {@code null}
   * @param detail a human-readable detail, or {@code null}
   */
  public AuditEvent(
      Instant time,
      Type type,
      @Nullable String subjectId,
      @Nullable String cluster,
      @Nullable String grantId,
      @Nullable String detail) {
    this(time, type, subjectId, cluster, grantId, detail, Map.of());
  }
}
