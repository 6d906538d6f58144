package dev.jitaccess.core.internal;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/** Strict lexical checks on compact tokens, done before and around nimbus' parsing. Stateless. */
final class TokenText {

  private static final List<String> STRING_CLAIMS = List.of("iss", "sub", "jti");
  private static final List<String> TIME_CLAIMS = List.of("exp", "nbf", "iat");

  private TokenText() {}

  static boolean isBase64Url(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  }

  /**
   * Whether the part (already known to be of the base64url alphabet) is the one canonical, unpadded encoding
   * of its bytes, so that no two strings decode to the same token (a flipped unused bit is a different token).
   * Checked without decoding: a length of 1 modulo 4 encodes no whole byte, and the last character of a
   * 2 (3) modulo 4 length carries 4 (2) unused low bits, which must be zero.
   */
  static boolean isCanonicalBase64Url(String part) {
    int n = part.length();
    int unusedBits =
        switch (n % 4) {
          case 0 -> 0;
          case 2 -> 4;
          case 3 -> 2;
          default -> -1;
        };
    if (unusedBits <= 0) {
      return unusedBits == 0;
    }
    int last = sextet(part.charAt(n - 1));
    return last >= 0 && (last & ((1 << unusedBits) - 1)) == 0;
  }

  /** The 6-bit value of a base64url character, or -1 for any other character. */
  private static int sextet(char c) {
    if (c >= 'A' && c <= 'Z') {
      return c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      return c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      return c - '0' + 52;
    } else if (c == '-') {
      return 62;
    } else if (c == '_') {
      return 63;
    }
    return -1;
  }

  /** Decodes a part already checked by {@link #isCanonicalBase64Url} (with the JDK's decoder, not nimbus'). */
  static byte[] decode(String part) {
    return Base64.getUrlDecoder().decode(part);
  }

  /** Decodes strict UTF-8: malformed or unmappable bytes are a rejection, not a replacement character. */
  static String utf8(byte[] bytes, String name, JwtValidator validator) {
    try {
      return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw validator.reject("its " + name + " is not valid UTF-8");
    }
  }

  /** Registered claims must have their JSON type; nimbus would otherwise coerce a number {@code sub}. */
  static void checkRegisteredClaimTypes(Map<String, Object> json, JwtValidator validator) {
    for (String name : STRING_CLAIMS) {
      if (json.containsKey(name) && !(json.get(name) instanceof String)) {
        throw wrongType(validator, name, "a string", json.get(name));
      }
    }
    for (String name : TIME_CLAIMS) {
      if (json.containsKey(name) && !(json.get(name) instanceof Number)) {
        throw wrongType(validator, name, "a number (seconds since the epoch)", json.get(name));
      }
    }
    if (json.containsKey("aud")) {
      Object aud = json.get("aud");
      boolean ok =
          aud instanceof String
              || (aud instanceof List<?> list && list.stream().allMatch(String.class::isInstance));
      if (!ok) {
        throw wrongType(validator, "aud", "a string or a list of strings", aud);
      }
    }
  }

  private static RuntimeException wrongType(JwtValidator validator, String name, String expected, Object value) {
    return validator.reject("its " + name + " claim must be " + expected + " but was " + JwtValidator.jsonType(value));
  }

  /** Shortens and escapes an untrusted value (a claim, a header) for an exception message. */
  static String printable(String value) {
    StringBuilder out = new StringBuilder();
    int limit = Math.min(value.length(), 64);
    for (int i = 0; i < limit; i++) {
      char c = value.charAt(i);
      out.append(c < 0x20 || c == 0x7f || Character.isSurrogate(c) ? '?' : c);
    }
    if (value.length() > limit) {
      out.append("...");
    }
    return out.toString();
  }
}
