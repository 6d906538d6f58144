package dev.jitaccess.core.internal;

import dev.jitaccess.api.Grant;
import dev.jitaccess.api.Subject;
import java.time.Instant;

/**
 * Signs everything the engine hands out: grants, session tokens and agent credentials, with a rotating key
 * ring. The engine depends on this interface; {@code KeyRing} implements it with nimbus-jose-jwt.
 *
 * <p>Implementations are thread-safe.
 */
public interface TokenIssuer {

  /** The JOSE {@code typ} of a signed grant. */
  String GRANT_TYPE = "jit-grant+jwt";

  /** The JOSE {@code typ} of a session token. */
  String SESSION_TYPE = "jit-session+jwt";

  /** The JOSE {@code typ} of an agent credential. */
  String AGENT_TYPE = "jit-agent+jwt";

  /**
   * Signs a grant as a compact JWS: iss, sub = subject id, aud = cluster, jti = grant id, iat, nbf, exp,
   * plus the permissions, groups and justification.
   */
  String signGrant(Grant grant);

  /** Signs a session token for the subject (aud = the relay audience), valid in [issuedAt, expiresAt). */
  String signSessionToken(Subject subject, String tokenId, Instant issuedAt, Instant expiresAt);

  /** Signs an agent credential for exactly one cluster, valid in [issuedAt, expiresAt). */
  String signAgentCredential(String cluster, String tokenId, Instant issuedAt, Instant expiresAt);

  /** The public keys that verify what this issuer signed and has not yet expired, as a JWK set JSON. */
  String publicJwks();

  /** Starts signing with a new key; the old keys keep verifying until what they signed has expired. */
  void rotate();
}
