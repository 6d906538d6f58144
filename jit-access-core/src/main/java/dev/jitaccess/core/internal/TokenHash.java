package dev.jitaccess.core.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The SHA-256 of a bearer token, as the key of the authentication cache and as the source of the token's
 * fingerprint in logs and audit records. Holding four longs keeps the warm path to two small allocations and
 * makes {@code equals} cheap; the token itself is never retained. Immutable and thread-safe.
 */
public final class TokenHash {
  private static final ThreadLocal<MessageDigest> SHA_256 = ThreadLocal.withInitial(TokenHash::newDigest);

  private final long a;
  private final long b;
  private final long c;
  private final long d;

  private TokenHash(long a, long b, long c, long d) {
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
  }

  /** Hashes a token (its UTF-8 bytes). */
  public static TokenHash of(String token) {
    MessageDigest digest = SHA_256.get();
    byte[] h = digest.digest(token.getBytes(StandardCharsets.UTF_8));
    return new TokenHash(toLong(h, 0), toLong(h, 8), toLong(h, 16), toLong(h, 24));
  }

  /** The first 8 hex characters of the hash: enough to correlate log lines, useless to an attacker. */
  public String fingerprint() {
    return String.format("%08x", (int) (a >>> 32));
  }

  private static long toLong(byte[] bytes, int offset) {
    long value = 0;
    for (int i = offset; i < offset + 8; i++) {
      value = (value << 8) | (bytes[i] & 0xffL);
    }
    return value;
  }

  private static MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform must provide SHA-256", e);
    }
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof TokenHash t && a == t.a && b == t.b && c == t.c && d == t.d;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(a);
  }

  @Override
  public String toString() {
    return "TokenHash[" + fingerprint() + "]";
  }
}
