package dev.jitaccess.api;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One Kubernetes ClusterRole, bound either cluster-wide or in one namespace.
 *
 * <p>The agent turns a cluster-wide permission into a ClusterRoleBinding and a namespaced one into a
 * RoleBinding in that namespace; Kubernetes RBAC then enforces the role. The ClusterRole name must be a valid
 * Kubernetes object name (at most 253 characters, no {@code /}, not {@code .} or {@code ..}, no white space or
 * control characters). The namespace, when present, must be a valid namespace name (a DNS label).
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @param clusterRole the name of the ClusterRole to bind
 * @param namespace the namespace to bind it in, or {@code null} for cluster-wide
 * @since 0.1.0
 */
public record Permission(String clusterRole, @Nullable String namespace) {

  /**
   * Validates the components.
   *
   * @throws NullPointerException if {@code clusterRole} is null
   * @throws IllegalArgumentException if the role or namespace is not a valid Kubernetes name
   */
  public Permission {
    Objects.requireNonNull(clusterRole, "clusterRole");
    if (clusterRole.isEmpty()
        || clusterRole.length() > 253
        || clusterRole.equals(".")
        || clusterRole.equals("..")
        || !clusterRole.chars().allMatch(c -> c > ' ' && c < 0x7f && c != '/' && c != '%')) {
      throw new IllegalArgumentException(
          "clusterRole must be a Kubernetes object name (1-253 printable characters, no '/', '%' or spaces)"
              + " but was '"
              + Checks.printable(clusterRole)
              + "'");
    }
    if (namespace != null) {
      Checks.dnsLabel(namespace, "namespace");
    }
  }

  /**
   * A permission to use the ClusterRole across the whole cluster.
   *
   * @param clusterRole the ClusterRole name
   * @return the permission
   * @throws IllegalArgumentException if the name is invalid
   */
  public static Permission clusterWide(String clusterRole) {
    return new Permission(clusterRole, null);
  }

  /**
   * A permission to use the ClusterRole in one namespace.
   *
   * @param clusterRole the ClusterRole name
   * @param namespace the namespace
   * @return the permission
   * @throws IllegalArgumentException if a name is invalid
   */
  public static Permission inNamespace(String clusterRole, String namespace) {
    return new Permission(clusterRole, Objects.requireNonNull(namespace, "namespace"));
  }

  /**
   * Whether this permission applies to the whole cluster.
   *
   * @return true when {@link #namespace()} is null
   */
  public boolean isClusterWide() {
    return namespace == null;
  }

  @Override
  public String toString() {
    return namespace == null ? clusterRole + "@*" : clusterRole + "@" + namespace;
  }
}
