package dev.jitaccess.core.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * SHA-256 fingerprints of tokens, the only form in which a token may appear in a log line, an audit record or
 * an exception message. Thread-safe (stateless).
 */
public final class TokenFingerprint {

  /** Hex characters in a log fingerprint: 8 characters = 32 bits, enough to correlate, useless to attack. */
  public static final int LOG_LENGTH = 8;

  private TokenFingerprint() {}

  /** The full SHA-256 of the token's UTF-8 bytes, as 64 lower-case hex characters (a cache key). */
  public static String sha256Hex(String token) {
    Objects.requireNonNull(token, "token");
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform must support SHA-256", e);
    }
  }

  /** The first {@value #LOG_LENGTH} hex characters of the token's SHA-256, prefixed {@code sha256:}. */
  public static String of(String token) {
    return "sha256:" + sha256Hex(token).substring(0, LOG_LENGTH);
  }
}
