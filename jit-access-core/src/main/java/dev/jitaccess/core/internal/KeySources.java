package dev.jitaccess.core.internal;

import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import java.net.MalformedURLException;
import java.net.URI;
import java.text.ParseException;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Where verification keys come from: a fixed JWK set, a live supplier (the engine's {@code KeyRing}, so that
 * rotation is seen at once) or a remote JWKS URL with caching and a rate-limited refresh. Only public keys
 * are ever handed out; symmetric keys are dropped.
 */
public final class KeySources {

  /** Connect timeout of a JWKS fetch. */
  public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);

  /** Read timeout of a JWKS fetch. */
  public static final Duration READ_TIMEOUT = Duration.ofSeconds(3);

  /** The largest JWKS document accepted, in bytes. */
  public static final int MAX_JWKS_SIZE = 256 * 1024;

  /** How long a fetched JWKS is used before it is fetched again. */
  public static final Duration CACHE_TTL = Duration.ofMinutes(5);

  /** At most two fetches within this interval, however many unknown key ids arrive. */
  public static final Duration MIN_REFRESH_INTERVAL = Duration.ofSeconds(30);

  private KeySources() {}

  /**
   * A fixed key set parsed from JWK set JSON.
   *
   * @throws IllegalArgumentException if the JSON is not a JWK set or holds no public key
   */
  public static JWKSource<SecurityContext> fromJson(String jwksJson, String name) {
    Objects.requireNonNull(jwksJson, name);
    JWKSet set;
    try {
      set = JWKSet.parse(jwksJson).toPublicJWKSet();
    } catch (ParseException e) {
      throw new IllegalArgumentException(
          name + " must be a JWK set JSON document ({\"keys\": [...]}) but could not be parsed: "
              + e.getMessage(),
          e);
    }
    if (set.isEmpty()) {
      throw new IllegalArgumentException(
          name + " must contain at least one public EC or RSA key but contained none");
    }
    return new ImmutableJWKSet<>(set);
  }

  /** A live key set: the supplier is asked on every key lookup. */
  public static JWKSource<SecurityContext> live(Supplier<JWKSet> keys) {
    Objects.requireNonNull(keys, "keySource");
    return (selector, context) -> {
      JWKSet set;
      try {
        set = keys.get();
      } catch (RuntimeException e) {
        throw new KeySourceException("the key source failed: " + e, e);
      }
      if (set == null) {
        throw new KeySourceException("the key source returned no key set");
      }
      return selector.select(set.toPublicJWKSet());
    };
  }

  /**
   * A remote JWKS: cached for {@link #CACHE_TTL}, refreshed when an unknown key id arrives but at most twice
   * per {@link #MIN_REFRESH_INTERVAL}, one retry on a failed fetch, bounded connect/read time and size.
   *
   * @throws IllegalArgumentException if the URI is not an absolute http or https URL
   */
  public static JWKSource<SecurityContext> remote(URI jwksUri) {
    Objects.requireNonNull(jwksUri, "jwksUri");
    String scheme = jwksUri.getScheme();
    if (!jwksUri.isAbsolute() || !("https".equalsIgnoreCase(scheme) || "http".equalsIgnoreCase(scheme))) {
      throw new IllegalArgumentException("jwksUri must be an absolute https (or http) URL but was " + jwksUri);
    }
    DefaultResourceRetriever retriever =
        new DefaultResourceRetriever(
            (int) CONNECT_TIMEOUT.toMillis(), (int) READ_TIMEOUT.toMillis(), MAX_JWKS_SIZE);
    try {
      return JWKSourceBuilder.<SecurityContext>create(jwksUri.toURL(), retriever)
          .cache(CACHE_TTL.toMillis(), READ_TIMEOUT.plus(CONNECT_TIMEOUT).toMillis())
          .refreshAheadCache(false)
          .rateLimited(MIN_REFRESH_INTERVAL.toMillis())
          .retrying(true)
          .outageTolerant(false)
          .build();
    } catch (MalformedURLException e) {
      throw new IllegalArgumentException("jwksUri is not a valid URL: " + jwksUri, e);
    }
  }
}
