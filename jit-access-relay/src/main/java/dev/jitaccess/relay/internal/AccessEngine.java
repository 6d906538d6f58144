package dev.jitaccess.relay.internal;

import dev.jitaccess.api.AccessDeniedException;
import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.api.AuthenticationException;
import dev.jitaccess.api.Grant;
import java.time.InstantSource;
import org.jspecify.annotations.Nullable;

/**
 * What the relay needs from the jit-access engine. The lead wires it to {@code JitAccess} and
 * {@code AgentCredentialVerifier}; tests use fakes.
 *
 * <p>Implementations are thread-safe and may block (the relay calls them off the event loop).
 */
public interface AccessEngine {

  /**
   * A grant and its signed form.
   *
   * @param grant the grant
   * @param signedGrant the compact JWS the agent verifies
   */
  record Authorized(Grant grant, String signedGrant) {}

  /**
   * Authenticates a user's bearer token and authorizes access to a cluster.
   *
   * @param bearerToken the token without {@code Bearer }
   * @param cluster the cluster id from the URL
   * @return the grant and its signed form
   * @throws AuthenticationException for a bad token (401)
   * @throws AccessDeniedException for a denial (403 with the reason)
   */
  Authorized authorize(String bearerToken, String cluster);

  /**
   * The answer {@link #authorize} would give, if it is known without blocking (a warm subject); safe to call on an
   * event loop. The default knows nothing.
   *
   * @param bearerToken the token without {@code Bearer }
   * @param cluster the cluster id from the URL
   * @return the recent answer, or null when {@link #authorize} must be called off the event loop
   */
  default @Nullable Authorized authorizeIfWarm(String bearerToken, String cluster) {
    return null;
  }

  /**
   * Verifies an agent credential.
   *
   * @param credential the credential the agent presented
   * @return the cluster id the credential was issued for
   * @throws AuthenticationException if it is not valid
   */
  String verifyAgentCredential(String credential);

  /**
   * Records an audit event (guarded by the engine; never throws for a failing sink).
   *
   * @param event the event
   */
  void audit(AuditEvent event);

  /**
   * The clock for audit times and timeouts.
   *
   * @return the clock
   */
  InstantSource clock();
}
