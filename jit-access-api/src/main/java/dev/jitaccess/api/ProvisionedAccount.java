package dev.jitaccess.api;

import java.time.Instant;
import java.util.Objects;

/**
 * A ServiceAccount that an {@link dev.jitaccess.api.spi.AccountProvisioner} made ready for a grant, with a
 * bound token for it.
 *
 * <p>The token is a credential for the cluster: it never leaves the agent, and {@link #toString()} never
 * prints it. Instances are immutable and thread-safe.
 *
 * @param namespace the namespace of the ServiceAccount
 * @param serviceAccount the ServiceAccount's name
 * @param token the bound token
 * @param tokenExpiresAt when the token expires, as Kubernetes reported it
 * @since 0.1.0
 */
public record ProvisionedAccount(
    String namespace, String serviceAccount, String token, Instant tokenExpiresAt) {

  /**
   * Validates the components.
   *
   * @throws NullPointerException if a component is null
   * @throws IllegalArgumentException if a name or the token is blank
   */
  public ProvisionedAccount {
    Checks.dnsLabel(namespace, "namespace");
    Checks.id(serviceAccount, "serviceAccount");
    Objects.requireNonNull(token, "token");
    if (token.isBlank()) {
      throw new IllegalArgumentException("token must not be blank");
    }
    Objects.requireNonNull(tokenExpiresAt, "tokenExpiresAt");
  }

  /** Prints the account without its token. */
  @Override
  public String toString() {
    return "ProvisionedAccount[namespace="
        + namespace
        + ", serviceAccount="
        + serviceAccount
        + ", token=<redacted>, tokenExpiresAt="
        + tokenExpiresAt
        + "]";
  }
}
