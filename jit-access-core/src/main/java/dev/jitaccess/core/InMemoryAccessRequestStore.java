package dev.jitaccess.core;

import dev.jitaccess.api.AccessRequestState;
import dev.jitaccess.api.spi.AccessRequestStore;
import java.util.Comparator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Predicate;

/**
 * An {@link AccessRequestStore} in memory: the engine's default. Requests are lost when the process ends and
 * are not shared between processes; use {@code JdbcAccessRequestStore} (module {@code jit-access-jdbc}) for
 * that. Nothing is ever removed, so a long-running process keeps every request it saw.
 *
 * <p>Thread-safe: {@link #replace} is an atomic compare-and-set on the version.
 *
 * @since 0.2.0
 */
public final class InMemoryAccessRequestStore implements AccessRequestStore {
  private static final Comparator<AccessRequestState> OLDEST_FIRST =
      Comparator.comparing(AccessRequestState::createdAt).thenComparing(AccessRequestState::id);

  private final ConcurrentMap<String, AccessRequestState> requests = new ConcurrentHashMap<>();

  /** An empty store. */
  public InMemoryAccessRequestStore() {}

  /**
   * {@inheritDoc}
   *
   * @throws NullPointerException if {@code request} is null
   */
  @Override
  public void create(AccessRequestState request) {
    Objects.requireNonNull(request, "request");
    if (request.version() != 0) {
      throw new IllegalArgumentException("a new request must have version 0 but had " + request.version());
    }
    if (requests.putIfAbsent(request.id(), request) != null) {
      throw new IllegalStateException("access request " + request.id() + " already exists");
    }
  }

  @Override
  public Optional<AccessRequestState> find(String id) {
    return Optional.ofNullable(requests.get(Objects.requireNonNull(id, "id")));
  }

  /**
   * {@inheritDoc}
   *
   * @throws NullPointerException if {@code next} is null
   */
  @Override
  public boolean replace(long expectedVersion, AccessRequestState next) {
    Objects.requireNonNull(next, "next");
    if (next.version() != expectedVersion + 1) {
      throw new IllegalArgumentException(
          "next.version must be expectedVersion + 1 = " + (expectedVersion + 1) + " but was " + next.version());
    }
    AccessRequestState current = requests.get(next.id());
    if (current == null) {
      throw new NoSuchElementException("unknown access request " + next.id());
    }
    return current.version() == expectedVersion && requests.replace(next.id(), current, next);
  }

  @Override
  public List<AccessRequestState> findByStatus(Set<AccessRequestState.Status> statuses) {
    Objects.requireNonNull(statuses, "statuses");
    return matching(r -> statuses.contains(r.status()));
  }

  @Override
  public List<AccessRequestState> findByRequester(String requesterId) {
    Objects.requireNonNull(requesterId, "requesterId");
    return matching(r -> r.requester().id().equals(requesterId));
  }

  private List<AccessRequestState> matching(Predicate<AccessRequestState> filter) {
    return requests.values().stream().filter(filter).sorted(OLDEST_FIRST).toList();
  }

  @Override
  public String toString() {
    return "InMemoryAccessRequestStore[" + requests.size() + " requests]";
  }
}
