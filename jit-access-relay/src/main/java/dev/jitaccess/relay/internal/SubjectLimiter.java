package dev.jitaccess.relay.internal;

import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Counts the requests and streams each authenticated subject has open across all user connections, and refuses a
 * new one beyond the limit (the relay answers 429). A subject with nothing open holds no memory.
 *
 * <p>Thread-safe.
 */
public final class SubjectLimiter {
  private final int limit;
  private final Map<String, Integer> open = new ConcurrentHashMap<>();

  /**
   * Creates a limiter.
   *
   * @param limit the most requests one subject may have open at once, positive
   * @throws IllegalArgumentException if {@code limit} is not positive
   */
  public SubjectLimiter(int limit) {
    if (limit <= 0) {
      throw new IllegalArgumentException("maxConcurrentRequestsPerSubject must be positive but was " + limit);
    }
    this.limit = limit;
  }

  /**
   * The limit per subject.
   *
   * @return the limit
   */
  public int limit() {
    return limit;
  }

  /**
   * Takes a slot for the subject if it has fewer than the limit open.
   *
   * @param subjectId the subject
   * @return true when a slot was taken (release it with {@link #release}), false when the subject is at the limit
   */
  public boolean tryAcquire(String subjectId) {
    Objects.requireNonNull(subjectId, "subjectId");
    boolean[] taken = {false};
    open.compute(
        subjectId,
        (id, n) -> {
          int current = n == null ? 0 : n;
          if (current >= limit) {
            return n;
          }
          taken[0] = true;
          return current + 1;
        });
    return taken[0];
  }

  /**
   * Gives back a slot taken with {@link #tryAcquire}.
   *
   * @param subjectId the subject
   */
  public void release(String subjectId) {
    open.computeIfPresent(subjectId, (id, n) -> n <= 1 ? null : n - 1);
  }

  /**
   * How many requests the subject has open.
   *
   * @param subjectId the subject
   * @return the count, 0 when none
   */
  public int openRequests(String subjectId) {
    return open.getOrDefault(subjectId, 0);
  }
}
