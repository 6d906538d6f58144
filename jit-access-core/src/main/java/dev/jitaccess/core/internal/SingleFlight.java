package dev.jitaccess.core.internal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * One load per key at a time, in front of a cache: the first caller of a key loads, outside any lock, and the
 * callers that come while it does wait for its value or its failure, which they share. A waiting caller can be
 * interrupted. Used by the engine's caches instead of Caffeine's {@code get(key, mappingFunction)}, which loads
 * inside the map's bin lock: a slow or hung provider would hold up other keys of the bin, its waiters could not
 * be interrupted, and a load that throws would be run again by every waiter in turn. Thread-safe.
 *
 * @param <K> the key
 * @param <V> the value
 */
public final class SingleFlight<K, V> {
  private final ConcurrentHashMap<K, CompletableFuture<V>> inFlight = new ConcurrentHashMap<>();

  /** Creates one, for one cache. */
  SingleFlight() {}

  /**
   * The cached value, or the one {@code load} makes for every caller of the key at the same time.
   *
   * @param key the key
   * @param cached the cached value, or null (asked again before a load, and by waiters that start over)
   * @param load makes the value and caches it; may block
   * @param waitersStartOver which failures of a load make its waiters try again (one of them loads for all)
   *     rather than share it: a failure that says the load was overtaken, not that its answer is no
   * @return the value
   * @throws RuntimeException what the load threw, in the loading caller and the waiters that share it
   * @throws InterruptedWaitException if the thread was interrupted while it waited for another caller's load (its
   *     interrupt status is set again)
   */
  V get(
      K key,
      Function<K, @Nullable V> cached,
      Supplier<V> load,
      Predicate<RuntimeException> waitersStartOver) {
    while (true) {
      V value = cached.apply(key);
      if (value != null) {
        return value;
      }
      CompletableFuture<V> mine = new CompletableFuture<>();
      CompletableFuture<V> running = inFlight.putIfAbsent(key, mine);
      if (running == null) {
        return load(key, cached, load, mine, waitersStartOver);
      }
      try {
        return running.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedWaitException();
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof StartOver) {
          inFlight.remove(key, running);
          continue;
        }
        if (cause instanceof RuntimeException r) {
          throw r;
        }
        if (cause instanceof Error error) {
          throw error;
        }
        throw new IllegalStateException("the load failed", cause);
      }
    }
  }

  private V load(
      K key,
      Function<K, @Nullable V> cached,
      Supplier<V> load,
      CompletableFuture<V> mine,
      Predicate<RuntimeException> waitersStartOver) {
    try {
      V value = cached.apply(key); // cached by a load that ended after this caller's miss
      if (value == null) {
        value = load.get();
      }
      mine.complete(value);
      return value;
    } catch (RuntimeException e) {
      mine.completeExceptionally(waitersStartOver.test(e) ? new StartOver() : e);
      throw e;
    } catch (Error e) {
      mine.completeExceptionally(e);
      throw e;
    } finally {
      inFlight.remove(key, mine);
    }
  }

  /** Tells the waiters of a load to start over; never leaves this class. */
  private static final class StartOver extends RuntimeException {
    private static final long serialVersionUID = 1L;

    StartOver() {
      super(null, null, false, false);
    }
  }

  /** A caller was interrupted while it waited for another caller's load of the same key. */
  public static final class InterruptedWaitException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    InterruptedWaitException() {
      super("interrupted while waiting for another caller's load of the same key");
    }
  }
}
