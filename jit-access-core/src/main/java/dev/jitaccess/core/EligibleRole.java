package dev.jitaccess.core;

import dev.jitaccess.api.Permission;
import java.util.List;
import java.util.Objects;

/**
 * A role a subject may ask for on a cluster through an access request: what it gives and under which rule.
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @param role the policy role name
 * @param permissions the permissions the role gives on the cluster; not empty, copied
 * @param rule how a request for it is approved
 * @since 0.2.0
 */
public record EligibleRole(String role, List<Permission> permissions, ApprovalRule rule) {
  /**
   * Validates and copies the components.
   *
   * @throws NullPointerException if a component is null
   * @throws IllegalArgumentException if there is no permission
   */
  public EligibleRole {
    Objects.requireNonNull(role, "role");
    permissions = List.copyOf(permissions);
    if (permissions.isEmpty()) {
      throw new IllegalArgumentException("permissions must not be empty");
    }
    Objects.requireNonNull(rule, "rule");
  }
}
