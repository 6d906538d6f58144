package dev.jitaccess.api.spi;

import dev.jitaccess.api.AuthenticationException;
import dev.jitaccess.api.Subject;

/**
 * Establishes who presented a bearer token.
 *
 * <p>Implementations must be thread-safe; they may block (for example to fetch a JWKS) but should bound the
 * time they do. The engine caches successful authentications (never beyond the token's own expiry), so an
 * implementation need not cache.
 *
 * @since 0.1.0
 */
@FunctionalInterface
public interface IdentityProvider {

  /**
   * Authenticates a bearer token.
   *
   * @param bearerToken the token as presented, without the {@code Bearer } prefix; never null
   * @return the authenticated subject; never null
   * @throws AuthenticationException if the token is not accepted. Any other runtime exception is treated as
   *     a provider failure and the request is denied.
   */
  Subject authenticate(String bearerToken);

  /**
   * A short, stable id for logs, audit records and {@code ProviderException}s.
   *
   * @return the id; by default the simple class name
   */
  default String id() {
    return getClass().getSimpleName();
  }
}
