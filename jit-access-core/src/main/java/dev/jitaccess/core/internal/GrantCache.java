package dev.jitaccess.core.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.Scheduler;
import dev.jitaccess.api.Grant;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * The grants the engine handed out, each cached until its own {@link Grant#expiresAt()}.
 *
 * <p>Loading is single-flight ({@link #get}): concurrent callers for one key, also exactly at expiry, share one
 * evaluation and its grant or its failure; the evaluation runs outside any lock of the cache, so it never holds
 * up other keys, and a waiting caller can be interrupted. A loader that throws caches nothing. Expired grants are
 * reported to {@code onExpired} from Caffeine's removal listener, which runs where the cache's maintenance runs:
 * with the system clock on the writer after a write and on the common pool otherwise ({@link CacheMaintenance}),
 * with a test clock on the calling thread. Caffeine removes expired entries lazily, during later cache activity or
 * {@link #cleanUp()}; with the system clock a scheduler makes that prompt. Thread-safe.
 */
public final class GrantCache {
  private final AtomicLong generation = new AtomicLong();
  /** The evaluation in progress for each key, if any. */
  private final SingleFlight<GrantKey, Grant> loads = new SingleFlight<>();
  private final InstantTicker ticker;
  private final InstantSource clock;
  private final Cache<GrantKey, Grant> cache;

  /**
   * A cache of at most {@code maximumSize} grants.
   *
   * @param clock the engine's clock, adapted to Caffeine's ticker
   * @param maximumSize the bound; the least used grants are dropped beyond it (they stay valid where signed)
   * @param prompt whether to schedule expiry on the system scheduler (only meaningful with the system clock)
   * @param onExpired called once for every grant that expired in the cache
   */
  public GrantCache(InstantSource clock, long maximumSize, boolean prompt, Consumer<Grant> onExpired) {
    this.clock = clock;
    InstantTicker ticker = new InstantTicker(clock);
    this.ticker = ticker;
    this.cache =
        Caffeine.newBuilder()
            .maximumSize(maximumSize)
            .ticker(ticker)
            // With the system clock, maintenance (and the EXPIRED audit events) runs on the common pool after
            // reads, off the warm path, and on the writer after writes (CacheMaintenance); with a test clock on
            // the calling thread, deterministically.
            .executor(prompt ? CacheMaintenance.INSTANCE : Runnable::run)
            .scheduler(prompt ? Scheduler.systemScheduler() : Scheduler.disabledScheduler())
            .expireAfter(new UntilExpiry(ticker))
            .removalListener(
                (@Nullable GrantKey key, @Nullable Grant grant, RemovalCause cause) -> {
                  if (cause == RemovalCause.EXPIRED && grant != null) {
                    onExpired.accept(grant);
                  }
                })
            .build();
  }

  /** The live cached grant for the key, or null. Allocation-free on a hit. */
  public @Nullable Grant getIfPresent(GrantKey key) {
    return cache.getIfPresent(key);
  }

  /**
   * The cached grant, or the one {@code loader} makes, once for all callers of the key at the same time
   * ({@link SingleFlight}: the others wait for its grant or its failure, which they share, and may be
   * interrupted). A grant evaluated across an {@linkplain #invalidate invalidation} is not kept: it is evaluated
   * once more against the new state. A failure that {@code waitersStartOver} accepts goes to the evaluating caller
   * only, and the waiters start over: for a failure that says the evaluation was overtaken, not that access is
   * denied.
   *
   * @param key the key
   * @param loader evaluates a grant; may block
   * @param waitersStartOver which failures of the loader make the waiters evaluate again rather than share them
   * @return a live grant
   * @throws RuntimeException what the loader threw, in the evaluating caller and in the waiters that share it
   * @throws SingleFlight.InterruptedWaitException if the thread was interrupted while it waited for another
   *     caller's evaluation (its interrupt status is set again)
   */
  public Grant get(
      GrantKey key, Function<GrantKey, Grant> loader, Predicate<RuntimeException> waitersStartOver) {
    return loads.get(key, cache::getIfPresent, () -> load(key, loader), waitersStartOver);
  }

  /** Evaluates and caches; a grant evaluated across an invalidation is dropped and evaluated once more. */
  private Grant load(GrantKey key, Function<GrantKey, Grant> loader) {
    long started = generation.get();
    Grant grant = loader.apply(key);
    put(key, grant);
    if (generation.get() != started) { // checked after the put: an invalidation either saw it or is seen here
      cache.asMap().remove(key, grant);
      grant = loader.apply(key);
      put(key, grant);
    }
    return grant;
  }

  private void put(GrantKey key, Grant grant) {
    CacheMaintenance.onWriter(() -> cache.put(key, grant));
  }

  /** Removes and returns the cached grants whose key matches. */
  public List<Grant> invalidate(Predicate<GrantKey> matching) {
    List<Grant> removed = new ArrayList<>();
    for (Map.Entry<GrantKey, Grant> e : cache.asMap().entrySet()) {
      if (matching.test(e.getKey()) && cache.asMap().remove(e.getKey(), e.getValue())) {
        removed.add(e.getValue());
      }
    }
    // After the removals: a grant remembered outside the cache before this point is no longer trusted.
    generation.incrementAndGet();
    return removed;
  }

  /**
   * A number that grows after every {@link #invalidate}: a grant remembered together with the generation read
   * before it was looked up may be used without a lookup while the generation is unchanged and it has not
   * ended.
   */
  public long generation() {
    return generation.get();
  }

  /** The ticker time at which the grant ends, for {@link #isLive(long)}. */
  public long endTicks(Grant grant) {
    return ticker.toTicks(grant.expiresAt());
  }

  /** Whether a grant ending at {@code endTicks} is still live now. */
  public boolean isLive(long endTicks) {
    return ticker.read() < endTicks;
  }

  /** The unexpired cached grants that match, oldest first, after running pending maintenance. */
  public List<Grant> active(Predicate<Grant> matching) {
    cache.cleanUp();
    Instant now = clock.instant();
    List<Grant> live = new ArrayList<>();
    for (Grant g : cache.asMap().values()) {
      if (g.expiresAt().isAfter(now) && matching.test(g)) {
        live.add(g);
      }
    }
    live.sort(Comparator.comparing(Grant::issuedAt).thenComparing(Grant::id));
    return List.copyOf(live);
  }

  /** Runs pending maintenance now: expired grants are removed and reported. */
  public void cleanUp() {
    cache.cleanUp();
  }

  /** Each grant lives in the cache until its own expiry. */
  private static final class UntilExpiry implements Expiry<GrantKey, Grant> {
    private final InstantTicker ticker;

    UntilExpiry(InstantTicker ticker) {
      this.ticker = ticker;
    }

    @Override
    public long expireAfterCreate(GrantKey key, Grant grant, long currentTime) {
      return Math.max(0, ticker.toTicks(grant.expiresAt()) - currentTime);
    }

    @Override
    public long expireAfterUpdate(GrantKey key, Grant grant, long currentTime, long currentDuration) {
      return expireAfterCreate(key, grant, currentTime);
    }

    @Override
    public long expireAfterRead(GrantKey key, Grant grant, long currentTime, long currentDuration) {
      return currentDuration;
    }
  }
}
