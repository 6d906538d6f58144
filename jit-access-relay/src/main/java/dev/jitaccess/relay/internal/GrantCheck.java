package dev.jitaccess.relay.internal;

import dev.jitaccess.api.Grant;
import org.jspecify.annotations.Nullable;

/**
 * How the agent verifies a signed grant. The lead wires it to {@code GrantVerifier} (signature from the
 * engine's JWKS, {@code aud} = the agent's own cluster id, expiry with 60 s skew); tests use fakes.
 */
@FunctionalInterface
public interface GrantCheck {

  /**
   * Verifies a signed grant.
   *
   * @param jws the compact JWS from {@link TunnelProtocol#GRANT_HEADER}
   * @return the grant
   * @throws dev.jitaccess.api.JitAccessException if it is rejected
   */
  Grant verify(String jws);

  /**
   * The grant, if it can be had without verifying a signature (it was verified before and is remembered);
   * never blocks. The default knows nothing.
   *
   * @param jws the compact JWS
   * @return the grant, or null when {@link #verify} is needed
   * @throws dev.jitaccess.api.JitAccessException if the remembered grant is refused now (expired)
   */
  default @Nullable Grant verifyIfCached(String jws) {
    return null;
  }
}
