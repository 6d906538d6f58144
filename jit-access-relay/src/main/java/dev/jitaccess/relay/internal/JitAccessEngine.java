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
  /** Entries of the relay's warm answers (one per token and cluster in use within a second). */
  static final long WARM_ENTRIES = 10_000;

  private final JitAccess jit;
  private final WarmAuthorizations warm;

  public JitAccessEngine(JitAccess jit) {
    this.jit = Objects.requireNonNull(jit, "jitAccess");
    this.warm = new WarmAuthorizations(jit.clock(), WARM_ENTRIES);
    jit.addRevocationListener(warm::revoked);
  }

  @Override
  public Authorized authorize(String bearerToken, String cluster) {
    long generation = warm.generation();
    Grant grant = jit.authorize(bearerToken, cluster);
    Authorized authorized = new Authorized(grant, jit.signGrant(grant));
    warm.put(bearerToken, cluster, authorized, generation);
    return authorized;
  }

  @Override
  public @Nullable Authorized authorizeIfWarm(String bearerToken, String cluster) {
    return warm.get(bearerToken, cluster);
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
