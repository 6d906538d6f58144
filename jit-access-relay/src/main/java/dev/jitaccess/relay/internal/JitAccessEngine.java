package dev.jitaccess.relay.internal;

import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.api.Grant;
import dev.jitaccess.core.JitAccess;
import java.time.InstantSource;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The relay's view of the jit-access engine: authorize and sign (one signature per grant, cached by the
 * engine), verify agent credentials on the engine's live keys, record audit events through its guarded sinks.
 */
public final class JitAccessEngine implements AccessEngine {
  private final JitAccess jit;

  public JitAccessEngine(JitAccess jit) {
    this.jit = Objects.requireNonNull(jit, "jitAccess");
  }

  @Override
  public Authorized authorize(String bearerToken, String cluster) {
    Grant grant = jit.authorize(bearerToken, cluster);
    return new Authorized(grant, jit.signGrant(grant));
  }

  /** The engine's own caches, read without blocking: no second cache and no staleness in the relay. */
  @Override
  public @Nullable Authorized authorizeIfWarm(String bearerToken, String cluster) {
    return jit.authorizeIfCached(bearerToken, cluster)
        .map(grant -> new Authorized(grant, jit.signGrant(grant)))
        .orElse(null);
  }

  @Override
  public String verifyAgentCredential(String credential) {
    return jit.agentCredentialVerifier().verify(credential);
  }

  @Override
  public void audit(AuditEvent event) {
    jit.audit(event);
  }

  @Override
  public InstantSource clock() {
    return jit.clock();
  }
}
