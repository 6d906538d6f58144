package dev.jitaccess.core.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import dev.jitaccess.api.Grant;
import java.time.InstantSource;
import org.jspecify.annotations.Nullable;

/**
 * The signed form of each live grant, so that a grant used for many requests is signed once. Entries end when
 * their grant does. Thread-safe.
 */
public final class SignedGrantCache {
  private record Signed(Grant grant, String jws) {}

  private final Cache<String, Signed> cache;

  public SignedGrantCache(InstantSource clock, long maximumSize) {
    InstantTicker ticker = new InstantTicker(clock);
    this.cache =
        Caffeine.newBuilder()
            .maximumSize(maximumSize)
            .ticker(ticker)
            .executor(Runnable::run)
            .expireAfter(
                Expiry.<String, Signed>creating(
                    (id, signed) ->
                        java.time.Duration.ofNanos(
                            Math.max(0, ticker.toTicks(signed.grant().expiresAt()) - ticker.read()))))
            .build();
  }

  /** The signed form of exactly this grant, or null when it was not signed yet (or has expired). */
  public @Nullable String get(Grant grant) {
    Signed signed = cache.getIfPresent(grant.id());
    return signed != null && signed.grant().equals(grant) ? signed.jws() : null;
  }

  public void put(Grant grant, String jws) {
    cache.put(grant.id(), new Signed(grant, jws));
  }
}
