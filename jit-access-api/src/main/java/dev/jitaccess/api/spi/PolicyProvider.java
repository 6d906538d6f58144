package dev.jitaccess.api.spi;

import dev.jitaccess.api.AccessRequest;
import dev.jitaccess.api.Decision;

/**
 * Decides what a subject may do on a cluster.
 *
 * <p>Implementations must be thread-safe and side-effect free; they may block. The engine caches each
 * {@link Decision.Granted} for at most the grant TTL, so a change in policy takes effect within that time.
 * A runtime exception thrown here is a denial (fail closed) and is not cached.
 *
 * @since 0.1.0
 */
@FunctionalInterface
public interface PolicyProvider {

  /**
   * Evaluates a request.
   *
   * @param request the request; never null
   * @return the decision; never null (a null return is treated as a provider failure, hence a denial)
   */
  Decision evaluate(AccessRequest request);

  /**
   * A short, stable id for logs, audit records and {@code ProviderException}s.
   *
   * @return the id; by default the simple class name
   */
  default String id() {
    return getClass().getSimpleName();
  }
}
