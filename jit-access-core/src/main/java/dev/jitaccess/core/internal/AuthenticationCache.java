package dev.jitaccess.core.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Scheduler;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jose.util.JSONObjectUtils;
import dev.jitaccess.api.Grant;
import dev.jitaccess.api.Subject;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Successful authentications, keyed by the SHA-256 of the token so the token itself is never retained.
 *
 * <p>An entry never outlives the token: for a JWT-shaped token (three dot-separated parts) the cache reads the
 * {@code exp} claim without verifying anything (the identity provider has already verified the token) and keeps
 * the subject until then; a token without a readable {@code exp} (opaque, or a JWT without the claim) is kept
 * for at most {@link #OPAQUE_TOKEN_TTL}. Failures are never cached. Thread-safe.
 */
public final class AuthenticationCache {
  /** How long an authentication of a token without a readable expiry is trusted. */
  public static final Duration OPAQUE_TOKEN_TTL = Duration.ofSeconds(60);

  /** Tokens longer than this are never parsed here (the engine refuses them before). */
  private static final int MAX_PARSED_LENGTH = 16 * 1024;

  private final InstantSource clock;
  private final Cache<TokenHash, Entry> cache;
  private final SingleFlight<TokenHash, Entry> loads = new SingleFlight<>();

  /**
   * One authentication and the instant it stops being trusted, with the grant key of the cluster it was last
   * used for, so that a warm call neither allocates nor hashes a {@link GrantKey}. Thread-safe.
   */
  public static final class Entry {
    private final Subject subject;
    private final Instant until;
    private volatile @Nullable Memo memo;

    /** The grant key, and once looked up the grant, of the cluster this authentication was last used for. */
    private record Memo(GrantKey key, @Nullable Grant grant, long generation, long endTicks) {}

    Entry(Subject subject, Instant until) {
      this.subject = subject;
      this.until = until;
    }

    /** The authenticated subject. */
    public Subject subject() {
      return subject;
    }

    /** {@code GrantKey.of(subject(), cluster)}, remembered for the last cluster asked. */
    public GrantKey grantKey(String cluster) {
      Memo m = memo;
      if (m == null || !m.key().cluster().equals(cluster)) {
        GrantKey key = GrantKey.of(subject, cluster);
        memo = new Memo(key, null, 0, 0); // racing writers store equal keys
        return key;
      }
      return m.key();
    }

    /**
     * The grant remembered for the cluster, if the grant cache's generation is still {@code generation} and
     * the grant has not ended; otherwise null (look it up).
     */
    public @Nullable Grant rememberedGrant(String cluster, GrantCache grants) {
      Memo m = memo;
      if (m == null || m.grant() == null || !m.key().cluster().equals(cluster)) {
        return null;
      }
      return m.generation() == grants.generation() && grants.isLive(m.endTicks()) ? m.grant() : null;
    }

    /** Remembers a grant found in the cache after reading {@code generation}. */
    public void remember(GrantKey key, Grant grant, long generation, GrantCache grants) {
      memo = new Memo(key, grant, generation, grants.endTicks(grant));
    }
  }

  /** A cache of at most {@code maximumSize} authentications. */
  public AuthenticationCache(InstantSource clock, long maximumSize) {
    this.clock = clock;
    InstantTicker ticker = new InstantTicker(clock);
    this.cache =
        Caffeine.newBuilder()
            .maximumSize(maximumSize)
            .ticker(ticker)
            // With the system clock, maintenance after reads off the request path and after writes on the writer
            // (CacheMaintenance); with a test clock on the calling thread.
            .executor(clock.equals(InstantSource.system()) ? CacheMaintenance.INSTANCE : Runnable::run)
            .scheduler(Scheduler.disabledScheduler())
            .expireAfter(new UntilEntryEnds(ticker))
            .build();
  }

  /** The cached authentication of the token, or null. */
  public @Nullable Entry getIfPresent(TokenHash hash) {
    return cache.getIfPresent(hash);
  }

  /**
   * The cached authentication, or the one {@code authenticator} returns, called once however many threads miss on
   * the same token at the same time ({@link SingleFlight}: outside the cache's locks, so a slow identity provider
   * holds up no other token, and the waiters share its answer or its failure and may be interrupted). Exceptions
   * propagate and nothing is cached.
   *
   * @throws SingleFlight.InterruptedWaitException if interrupted while waiting for another caller's call
   */
  public Entry get(TokenHash hash, String token, Function<String, Authenticated> authenticator) {
    return loads.get(
        hash,
        cache::getIfPresent,
        () -> {
          Entry entry = entry(authenticator.apply(token), token);
          CacheMaintenance.onWriter(() -> cache.put(hash, entry));
          return entry;
        },
        failure -> false);
  }

  /**
   * A subject an identity provider accepted, with the token's {@code exp} when the provider already read it from
   * the verified claims (so the token is not decoded and parsed once more), or null to let the cache read it.
   *
   * @param subject the authenticated subject
   * @param expiresAt the verified {@code exp} of the token, or null when unknown
   */
  public record Authenticated(Subject subject, @Nullable Instant expiresAt) {}

  private Entry entry(Authenticated authenticated, String token) {
    Instant exp = authenticated.expiresAt();
    return new Entry(authenticated.subject(), exp != null ? exp : trustedUntil(token));
  }

  /** Forgets every authentication of the subject, so its next token is verified afresh. */
  public void invalidateSubject(String subjectId) {
    cache.asMap().values().removeIf(e -> e.subject.id().equals(subjectId));
  }

  private Instant trustedUntil(String token) {
    Instant now = clock.instant();
    Instant opaqueLimit = now.plus(OPAQUE_TOKEN_TTL);
    Instant exp = expiry(token);
    return exp == null ? opaqueLimit : exp;
  }

  /**
   * The token's {@code exp}, read from its payload alone: the identity provider has verified the token already,
   * so only the payload's base64url is decoded and its JSON parsed (a full {@code JWTParser.parse} also parsed the
   * header and built a claims set: about a third of what the engine allocated beyond bare nimbus on the cold path). Null for
   * anything that is not a compact JWS with a numeric {@code exp}.
   */
  private static @Nullable Instant expiry(String token) {
    if (token.length() > MAX_PARSED_LENGTH) {
      return null;
    }
    int first = token.indexOf('.');
    int second = first < 0 ? -1 : token.indexOf('.', first + 1);
    if (second < 0 || token.indexOf('.', second + 1) >= 0) {
      return null;
    }
    try {
      String payload = new Base64URL(token.substring(first + 1, second)).decodeToString();
      Object exp = JSONObjectUtils.parse(payload).get("exp");
      return exp instanceof Number seconds ? Instant.ofEpochSecond(seconds.longValue()) : null;
    } catch (ParseException | RuntimeException e) {
      return null; // not a JWT after all: treated as opaque
    }
  }

  /** Each entry lives until its own end. */
  private static final class UntilEntryEnds implements Expiry<TokenHash, Entry> {
    private final InstantTicker ticker;

    UntilEntryEnds(InstantTicker ticker) {
      this.ticker = ticker;
    }

    @Override
    public long expireAfterCreate(TokenHash key, Entry entry, long currentTime) {
      return Math.max(0, ticker.toTicks(entry.until) - currentTime);
    }

    @Override
    public long expireAfterUpdate(TokenHash key, Entry entry, long currentTime, long currentDuration) {
      return expireAfterCreate(key, entry, currentTime);
    }

    @Override
    public long expireAfterRead(TokenHash key, Entry entry, long currentTime, long currentDuration) {
      return currentDuration;
    }
  }
}
