package dev.jitaccess.api.spi;

import dev.jitaccess.api.AccessRequestState;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Keeps access requests, with optimistic locking.
 *
 * <p>The engine reads a request, decides, and writes the next state with {@link #replace(long,
 * AccessRequestState)}, which succeeds only if nobody changed the request in between; on {@code false} the
 * engine reads again and re-decides. That is what keeps concurrent reviewers from losing or duplicating
 * approvals, so an implementation must make the version check and the write one atomic step (a
 * compare-and-set in memory, {@code UPDATE ... WHERE id = ? AND version = ?} in SQL).
 *
 * <p>Implementations must be thread-safe and may block (I/O). They return the states exactly as written
 * (equal records). A {@link RuntimeException} other than those documented means the store failed; the engine
 * turns it into a refusal (fail closed) and never into a grant. Nothing here is cached by the engine, except
 * that grants derived from an active request live at most one grant TTL.
 *
 * @since 0.2.0
 */
public interface AccessRequestStore {

  /**
   * Stores a new request.
   *
   * @param request a request with version 0; never null
   * @throws IllegalArgumentException if its version is not 0
   * @throws IllegalStateException if a request with that id already exists
   */
  void create(AccessRequestState request);

  /**
   * Looks a request up.
   *
   * @param id a request id; never null
   * @return the stored request, or empty if there is none with that id
   */
  Optional<AccessRequestState> find(String id);

  /**
   * Replaces a request if its stored version is still {@code expectedVersion}; atomic.
   *
   * @param expectedVersion the version the caller read
   * @param next the new state; its version must be {@code expectedVersion + 1}; never null
   * @return true if stored; false if the stored version differs (someone else changed it: read again)
   * @throws IllegalArgumentException if {@code next.version() != expectedVersion + 1}
   * @throws java.util.NoSuchElementException if there is no request with that id
   */
  boolean replace(long expectedVersion, AccessRequestState next);

  /**
   * The requests with one of the given stored statuses, oldest first (by creation time, then id). The
   * stored status lags behind time: callers filter with {@link AccessRequestState#statusAt}.
   *
   * @param statuses the statuses; never null, empty gives an empty list
   * @return an unmodifiable snapshot
   */
  List<AccessRequestState> findByStatus(Set<AccessRequestState.Status> statuses);

  /**
   * The requests made by one requester, oldest first (by creation time, then id).
   *
   * @param requesterId the requester's subject id; never null
   * @return an unmodifiable snapshot
   */
  List<AccessRequestState> findByRequester(String requesterId);

  /**
   * A short, stable id for logs and errors.
   *
   * @return the id; by default the simple class name
   */
  default String id() {
    return getClass().getSimpleName();
  }
}
