package dev.jitaccess.examples.portal;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The portal's own settings ({@code portal.*}).
 *
 * @param clusters The clusters users may ask for; any other name is refused as unknown.
 * @param adminGroup Members of this group may revoke anyone's access and read the whole audit trail.
 * @param kubeconfigTokenTtl How long the session token in a downloaded kubeconfig is valid.
 */
@ConfigurationProperties(prefix = "portal")
public record PortalProperties(
    List<String> clusters,
    @DefaultValue("admins") String adminGroup,
    @DefaultValue("1h") Duration kubeconfigTokenTtl) {

  /** Checks the values. */
  public PortalProperties {
    clusters = List.copyOf(clusters == null ? List.of() : clusters);
    if (clusters.isEmpty()) {
      throw new IllegalArgumentException("portal.clusters must name at least one cluster");
    }
    if (kubeconfigTokenTtl.isNegative() || kubeconfigTokenTtl.isZero()) {
      throw new IllegalArgumentException("portal.kubeconfig-token-ttl must be positive but was " + kubeconfigTokenTtl);
    }
  }

  /**
   * Checks that users may ask for the cluster.
   *
   * @param cluster a cluster name from a request
   * @return the same name
   * @throws IllegalArgumentException if it is missing or not one of {@link #clusters()}
   */
  public String knownCluster(String cluster) {
    if (cluster == null || cluster.isBlank()) {
      throw new IllegalArgumentException("cluster is required; known clusters: " + clusters);
    }
    if (!Set.copyOf(clusters).contains(cluster)) {
      throw new IllegalArgumentException("unknown cluster '" + cluster + "'; known clusters: " + clusters);
    }
    return cluster;
  }
}
