package dev.jitaccess.core;

import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import dev.jitaccess.core.internal.BuilderChecks;
import dev.jitaccess.core.internal.JwtRules;
import dev.jitaccess.core.internal.JwtValidator;
import dev.jitaccess.core.internal.KeySources;
import java.time.InstantSource;
import java.util.Objects;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * What the builders of every verifier of the engine's own tokens share (grants, session tokens, agent
 * credentials): the public keys, the issuer and the clock, each settable once, and the validator built from them.
 *
 * @param <B> the concrete builder, returned by every setter
 */
abstract class EngineTokenBuilder<B extends EngineTokenBuilder<B>> {
  private @Nullable JWKSource<SecurityContext> keys;
  private @Nullable String issuer;
  private @Nullable InstantSource clock;

  EngineTokenBuilder() {}

  /** This builder, typed as the concrete one. */
  abstract B self();

  /**
   * The engine's public keys, as JWK set JSON ({@code JitAccess.publicJwks()}).
   *
   * @param json a JWK set, for example {@code {"keys":[{"kty":"EC",...}]}}; private members are ignored
   * @return this builder
   * @throws NullPointerException if {@code json} is null
   * @throws IllegalArgumentException if it is not a JWK set with at least one public EC or RSA key
   * @throws IllegalStateException if the keys were already set
   */
  public B jwks(String json) {
    BuilderChecks.once(keys, "jwks");
    keys = KeySources.fromJson(json, "jwks");
    return self();
  }

  /** A live key source (the engine's key ring), asked whenever a signature is checked. */
  B keySource(Supplier<JWKSet> keySource) {
    BuilderChecks.once(keys, "jwks");
    keys = KeySources.live(keySource);
    return self();
  }

  /**
   * The engine's issuer ({@code JitAccess.builder().issuer(...)}); {@code iss} must equal it exactly.
   *
   * @param issuer the issuer
   * @return this builder
   * @throws NullPointerException if {@code issuer} is null
   * @throws IllegalArgumentException if it is blank
   * @throws IllegalStateException if it was already set
   */
  public B issuer(String issuer) {
    BuilderChecks.once(this.issuer, "issuer");
    this.issuer = BuilderChecks.nonBlank(issuer, "issuer");
    return self();
  }

  /**
   * The time source for expiry checks; by default {@link InstantSource#system()}.
   *
   * @param clock the clock
   * @return this builder
   * @throws NullPointerException if {@code clock} is null
   * @throws IllegalStateException if it was already set
   */
  public B clock(InstantSource clock) {
    BuilderChecks.once(this.clock, "clock");
    this.clock = Objects.requireNonNull(clock, "clock");
    return self();
  }

  /**
   * Checks that the keys and the issuer were set.
   *
   * @throws IllegalStateException naming the first one missing
   */
  void checkKeysAndIssuer() {
    BuilderChecks.required(keys, "jwks", "pass the engine's publicJwks()");
    BuilderChecks.required(issuer, "issuer", "pass the engine's issuer");
  }

  /**
   * The validator for one kind of engine token.
   *
   * @throws IllegalStateException if the keys or the issuer are missing
   */
  JwtValidator validator(String kind, String type, String audience, int maxTokenSize, long cacheSize) {
    checkKeysAndIssuer();
    JwtRules rules =
        JwtRules.engineToken(
            kind,
            type,
            Objects.requireNonNull(issuer),
            audience,
            clock == null ? InstantSource.system() : clock,
            maxTokenSize);
    return new JwtValidator(rules, Objects.requireNonNull(keys), cacheSize);
  }
}
