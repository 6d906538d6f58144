package dev.jitaccess.examples.portal;

import dev.jitaccess.api.AccessRequestState;
import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.api.Grant;
import dev.jitaccess.api.Permission;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The JSON shapes the portal's API reads and writes. */
final class Views {
  private Views() {}

  /** {@code POST /api/access}: a grant on a cluster now. Duration as {@code 30m}, {@code 1h} or {@code PT1H}. */
  record AccessForm(String cluster, String justification, String duration) {}

  /** {@code POST /api/requests}: ask for eligible roles; empty roles means every eligible role. */
  record RequestForm(String cluster, List<String> roles, String justification, String duration) {}

  /** {@code POST /api/requests/{id}/approve|deny}: a comment (approve, optional) or reason (deny, required). */
  record ReviewForm(String comment) {}

  record PermissionView(String clusterRole, String namespace) {
    static PermissionView of(Permission p) {
      return new PermissionView(p.clusterRole(), p.namespace());
    }
  }

  record GrantView(
      String id, String subject, String cluster, List<PermissionView> permissions, Instant issuedAt, Instant expiresAt) {
    static GrantView of(Grant g) {
      return new GrantView(
          g.id(),
          g.subject().id(),
          g.cluster(),
          g.permissions().stream().map(PermissionView::of).toList(),
          g.issuedAt(),
          g.expiresAt());
    }
  }

  record ReviewView(String reviewer, String verdict, String comment, Instant at) {}

  record RequestView(
      String id,
      String requester,
      String cluster,
      List<String> roles,
      List<PermissionView> permissions,
      Duration duration,
      String justification,
      String status,
      Instant createdAt,
      Instant expiresAt,
      int requiredApprovals,
      int approvals,
      List<ReviewView> reviews,
      Instant activeUntil) {
    static RequestView of(AccessRequestState r, Instant now) {
      return new RequestView(
          r.id(),
          r.requester().id(),
          r.cluster(),
          r.roles(),
          r.permissions().stream().map(PermissionView::of).toList(),
          r.duration(),
          r.justification(),
          r.statusAt(now).name(),
          r.createdAt(),
          r.expiresAt(),
          r.requiredApprovals(),
          r.approvals(),
          r.reviews().stream()
              .map(v -> new ReviewView(v.reviewerId(), v.verdict().name(), v.comment(), v.at()))
              .toList(),
          r.activeUntil());
    }
  }

  record AuditView(
      Instant time, String type, String subject, String cluster, String grantId, String detail,
      Map<String, String> attributes) {
    static AuditView of(AuditEvent e) {
      return new AuditView(
          e.time(), e.type().name(), e.subjectId(), e.cluster(), e.grantId(), e.detail(), e.attributes());
    }
  }
}
