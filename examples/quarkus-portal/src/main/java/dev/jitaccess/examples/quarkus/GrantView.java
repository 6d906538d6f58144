package dev.jitaccess.examples.quarkus;

import dev.jitaccess.api.Grant;
import dev.jitaccess.api.Permission;
import java.time.Instant;
import java.util.List;

/**
 * A grant as JSON.
 *
 * @param id the grant id
 * @param subject the subject id
 * @param cluster the cluster
 * @param permissions ClusterRole and namespace ({@code null}: cluster-wide) of each permission
 * @param issuedAt when it was issued
 * @param expiresAt when it expires
 */
public record GrantView(
    String id, String subject, String cluster, List<PermissionView> permissions, Instant issuedAt, Instant expiresAt) {
  /**
   * One permission.
   *
   * @param clusterRole the ClusterRole
   * @param namespace the namespace, or {@code null} for cluster-wide
   */
  public record PermissionView(String clusterRole, String namespace) {
    static PermissionView of(Permission p) {
      return new PermissionView(p.clusterRole(), p.namespace());
    }
  }

  static GrantView of(Grant grant) {
    return new GrantView(
        grant.id(),
        grant.subject().id(),
        grant.cluster(),
        grant.permissions().stream().map(PermissionView::of).toList(),
        grant.issuedAt(),
        grant.expiresAt());
  }
}
