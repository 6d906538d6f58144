package dev.jitaccess.benchmarks;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.jwk.JWK;
import dev.jitaccess.api.AuthenticationException;
import dev.jitaccess.api.Grant;
import dev.jitaccess.api.Subject;
import dev.jitaccess.api.spi.IdentityProvider;
import dev.jitaccess.core.JitAccess;
import dev.jitaccess.core.OidcIdentityProvider;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * The warm path: {@link JitAccess#authorize(String, String)} for 10,000 distinct users whose tokens are already
 * authenticated and whose grants are already cached, against the work no implementation can avoid — the
 * SHA-256 of the token (the token itself must not be retained as a key) and one Caffeine {@code getIfPresent}
 * on a cache of the same size.
 *
 * <p>Tokens are either opaque (43 random base64url characters, authenticated by a map-backed provider) or
 * ES256 OIDC JWTs (authenticated by a real {@link OidcIdentityProvider}). Each thread walks the tokens
 * round-robin from its own random start. The identity provider counts its calls: the trial fails if any call
 * happens after setup, so every measured operation was a hit on both caches.
 *
 * <p>The {@code TwoThreads} variants run the same work on two threads; JMH reports the average time per
 * operation per thread, so aggregate throughput is {@code threads / avgt}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class WarmAuthorizeBenchmark {

  /** The number of distinct users and tokens, and the size of both engine caches and the baseline cache. */
  public static final int USERS = 10_000;

  /** The engine and the baseline cache, both filled in setup. */
  @State(Scope.Benchmark)
  public static class Engine {
    /** "opaque" or "jwt" (ES256 OIDC token). */
    @Param({"opaque", "jwt"})
    public String tokenKind;

    String[] tokens;
    JitAccess engine;
    Cache<HashKey, Object> baseline;
    final AtomicLong authentications = new AtomicLong();
    long authenticationsAfterSetup;

    /** Mints the tokens, builds the engine, authorizes every token once, fills the baseline cache. */
    @Setup(Level.Trial)
    public void setUp() {
      tokens = new String[USERS];
      IdentityProvider provider;
      if (tokenKind.equals("opaque")) {
        Map<String, Subject> known = new HashMap<>();
        SecureRandom random = new SecureRandom();
        for (int i = 0; i < USERS; i++) {
          byte[] bytes = new byte[32];
          random.nextBytes(bytes);
          tokens[i] = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
          known.put(tokens[i], Subject.of(BenchmarkSupport.user(i), "developers", "oncall"));
        }
        provider = token -> {
          Subject s = known.get(token);
          if (s == null) {
            throw new AuthenticationException("unknown token");
          }
          return s;
        };
      } else if (tokenKind.equals("jwt")) {
        JWK key = BenchmarkSupport.newKey("ES256");
        JWSSigner signer = BenchmarkSupport.signer(key);
        for (int i = 0; i < USERS; i++) {
          tokens[i] = BenchmarkSupport.oidcToken(key, signer, BenchmarkSupport.user(i), Duration.ofHours(4));
        }
        provider =
            OidcIdentityProvider.builder()
                .issuer(BenchmarkSupport.ISSUER)
                .audience(BenchmarkSupport.AUDIENCE)
                .jwkSet(BenchmarkSupport.publicJwks(key))
                .build();
      } else {
        throw new IllegalArgumentException("tokenKind must be opaque or jwt but was " + tokenKind);
      }
      IdentityProvider delegate = provider;
      engine =
          JitAccess.builder()
              .identityProvider(token -> {
                authentications.incrementAndGet();
                return delegate.authenticate(token);
              })
              .policyProvider(BenchmarkSupport.GRANT_ALL)
              .auditSink(BenchmarkSupport.DISCARD)
              .grantTtl(Duration.ofHours(1))
              .maxGrantTtl(Duration.ofHours(1))
              .authenticationCacheSize(USERS)
              .grantCacheSize(USERS)
              .build();
      baseline = Caffeine.newBuilder().maximumSize(USERS).build();
      MessageDigest sha256 = sha256();
      for (String token : tokens) {
        Grant grant = engine.authorize(token, BenchmarkSupport.CLUSTER);
        baseline.put(HashKey.of(sha256, token), grant);
      }
      authenticationsAfterSetup = authentications.get();
      if (authenticationsAfterSetup != USERS) {
        throw new IllegalStateException("expected " + USERS + " authentications in setup but saw "
            + authenticationsAfterSetup);
      }
    }

    /** Fails the trial if a measured call missed the authentication cache. */
    @TearDown(Level.Trial)
    public void checkAllWarm() {
      long misses = authentications.get() - authenticationsAfterSetup;
      if (misses != 0) {
        throw new IllegalStateException(misses + " authentication cache misses during measurement: not warm");
      }
    }
  }

  /** Per-thread position in the token array and the thread's own SHA-256 instance for the baseline. */
  @State(Scope.Thread)
  public static class Cursor {
    int next;
    MessageDigest sha256;

    /** Starts at a random token so two threads do not walk in lockstep. */
    @Setup(Level.Trial)
    public void setUp() {
      next = ThreadLocalRandom.current().nextInt(USERS);
      sha256 = sha256();
    }

    int next() {
      int i = next;
      next = i + 1 == USERS ? 0 : i + 1;
      return i;
    }
  }

  /** The engine's warm path, one thread. */
  @Benchmark
  @Threads(1)
  public Grant authorize(Engine e, Cursor c) {
    return e.engine.authorize(e.tokens[c.next()], BenchmarkSupport.CLUSTER);
  }

  /** The bare unavoidable work, one thread: SHA-256 of the token and one cache lookup. */
  @Benchmark
  @Threads(1)
  public Object baseline(Engine e, Cursor c) {
    return e.baseline.getIfPresent(HashKey.of(c.sha256, e.tokens[c.next()]));
  }

  /** The engine's warm path, two threads. */
  @Benchmark
  @Threads(2)
  public Grant authorizeTwoThreads(Engine e, Cursor c) {
    return e.engine.authorize(e.tokens[c.next()], BenchmarkSupport.CLUSTER);
  }

  /** The bare unavoidable work, two threads. */
  @Benchmark
  @Threads(2)
  public Object baselineTwoThreads(Engine e, Cursor c) {
    return e.baseline.getIfPresent(HashKey.of(c.sha256, e.tokens[c.next()]));
  }

  /** The 256-bit hash as four longs: the smallest key a hash-keyed cache can have. */
  record HashKey(long a, long b, long c, long d) {
    static HashKey of(MessageDigest sha256, String token) {
      byte[] h = sha256.digest(token.getBytes(StandardCharsets.UTF_8));
      return new HashKey(toLong(h, 0), toLong(h, 8), toLong(h, 16), toLong(h, 24));
    }

    private static long toLong(byte[] bytes, int offset) {
      long value = 0;
      for (int i = offset; i < offset + 8; i++) {
        value = (value << 8) | (bytes[i] & 0xffL);
      }
      return value;
    }
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform must provide SHA-256", e);
    }
  }
}
