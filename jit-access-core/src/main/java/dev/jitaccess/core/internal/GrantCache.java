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
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * The grants the engine handed out, each cached until its own {@link Grant#expiresAt()}.
 *
 * <p>Loading goes through Caffeine's atomic {@code get(key, mappingFunction)}: concurrent callers for one key,
 * also exactly at expiry, share one evaluation, and a loader that throws caches nothing. Expired grants are
 * reported to {@code onExpired} from Caffeine's removal listener, which runs on the calling thread
 * ({@code executor(Runnable::run)}). Caffeine removes expired entries lazily, during later cache activity or
 * {@link #cleanUp()}; with the system clock a scheduler makes that prompt. Thread-safe.
 */
public final class GrantCache {
  private final AtomicLong generation = new AtomicLong();
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
            // With the system clock, maintenance (and the EXPIRED audit events) run on the common pool, off the
            // caller's request path; with a test clock they run on the calling thread, deterministically.
            .executor(prompt ? ForkJoinPool.commonPool() : Runnable::run)
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
   * The cached grant, or the one {@code loader} makes (once, however many threads ask at the same time).
   * Exceptions from the loader propagate and nothing is cached.
   */
  public Grant get(GrantKey key, Function<GrantKey, Grant> loader) {
    return cache.get(key, loader);
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
   * Removes one entry if it still holds exactly this grant, and forgets grants remembered outside the cache.
   *
   * @return whether it was removed
   */
  public boolean invalidate(GrantKey key, Grant grant) {
    boolean removed = cache.asMap().remove(key, grant);
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
