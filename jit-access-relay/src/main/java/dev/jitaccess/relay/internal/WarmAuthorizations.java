package dev.jitaccess.relay.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * The relay's answers of the last {@link #TTL} per (token, cluster), so that a warm subject is authorized on the
 * event loop without a hand-off to the authorization pool: a lookup here never blocks (no loader, maintenance on
 * the calling thread, no listeners). A miss goes to the engine off the event loop as before and fills it.
 *
 * <p>An entry lives for {@link #TTL} and never past its grant's expiry; a revocation drops the subject's entries
 * at once, and an answer computed while a revocation happened is not stored. Changes the engine does not
 * announce (an approval that widens a grant, a token that expires) show within {@link #TTL}. Keys hold a SHA-256
 * of the token, never the token.
 *
 * <p>Thread-safe.
 */
public final class WarmAuthorizations {
  /** How long an answer is reused without asking the engine again. */
  public static final Duration TTL = Duration.ofSeconds(1);

  private record Key(String tokenHash, String cluster) {}

  private final InstantSource clock;
  private final Cache<Key, AccessEngine.Authorized> cache;
  /** Bumped by every revocation; an answer fetched across a bump is not stored. */
  private final AtomicLong generation = new AtomicLong();

  /**
   * Creates an empty cache.
   *
   * @param clock the engine's clock (entry ages and grant expiry)
   * @param maximumSize the most entries kept
   */
  public WarmAuthorizations(InstantSource clock, long maximumSize) {
    this.clock = Objects.requireNonNull(clock, "clock");
    this.cache =
        Caffeine.newBuilder()
            .maximumSize(maximumSize)
            .executor(Runnable::run) // maintenance on the caller: no pool wake-up per request
            .ticker(() -> ChronoUnit.NANOS.between(Instant.EPOCH, clock.instant()))
            .expireAfter(
                Expiry.<Key, AccessEngine.Authorized>creating(
                    (key, authorized) -> {
                      Duration left = Duration.between(clock.instant(), authorized.grant().expiresAt());
                      return left.isNegative() ? Duration.ZERO : left.compareTo(TTL) < 0 ? left : TTL;
                    }))
            .build();
  }

  /** The revocation generation to pass to {@link #put} for an answer about to be fetched. */
  public long generation() {
    return generation.get();
  }

  /**
   * The recent answer for a token and cluster, without blocking.
   *
   * @param bearerToken the token
   * @param cluster the cluster id
   * @return the answer, or null when the engine must be asked
   */
  public AccessEngine.@Nullable Authorized get(String bearerToken, String cluster) {
    AccessEngine.Authorized authorized = cache.getIfPresent(new Key(hash(bearerToken), cluster));
    // The ticker has nanosecond steps but Caffeine may serve an entry up to its next maintenance; check exactly.
    return authorized == null || authorized.grant().isExpiredAt(clock.instant()) ? null : authorized;
  }

  /**
   * Remembers an answer unless a revocation happened since {@code generation} was read.
   *
   * @param bearerToken the token
   * @param cluster the cluster id
   * @param authorized the engine's answer
   * @param generation {@link #generation()} read before the engine was asked
   */
  public void put(String bearerToken, String cluster, AccessEngine.Authorized authorized, long generation) {
    Key key = new Key(hash(bearerToken), cluster);
    cache.put(key, authorized);
    if (this.generation.get() != generation) {
      cache.invalidate(key); // a revocation raced with the fetch: the answer may be stale
    }
  }

  /**
   * Drops the answers of a subject.
   *
   * @param subjectId the subject
   * @param cluster the revoked cluster, or null for all
   */
  public void revoked(String subjectId, @Nullable String cluster) {
    generation.incrementAndGet();
    cache.asMap().entrySet().removeIf(
        e -> e.getValue().grant().subject().id().equals(subjectId)
            && (cluster == null || e.getKey().cluster().equals(cluster)));
  }

  private static String hash(String token) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
      return Base64.getEncoder().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }
}
