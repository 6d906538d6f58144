package dev.jitaccess.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Base64;
import java.util.Random;
import org.junit.jupiter.api.Test;

final class TokenTextTest {
  private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

  /** The definition the arithmetic check replaces: decoding and re-encoding gives the same text. */
  private static boolean reEncodesToItself(String part) {
    try {
      byte[] bytes = Base64.getUrlDecoder().decode(part);
      return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes).equals(part);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  @Test
  void canonicalCheckAgreesWithDecodingAndReEncodingOnEveryLastCharacter() {
    Random random = new Random(42);
    for (int length = 0; length <= 9; length++) {
      for (int last = 0; last < ALPHABET.length(); last++) {
        StringBuilder part = new StringBuilder();
        for (int i = 0; i < length - 1; i++) {
          part.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
        }
        if (length > 0) {
          part.append(ALPHABET.charAt(last));
        }
        String text = part.toString();
        assertThat(TokenText.isCanonicalBase64Url(text)).as(text).isEqualTo(reEncodesToItself(text));
      }
    }
  }

  @Test
  void aFlippedUnusedBitIsNotCanonical() {
    String canonical = Base64.getUrlEncoder().withoutPadding().encodeToString(new byte[] {1, 2, 3, 4});
    assertThat(TokenText.isCanonicalBase64Url(canonical)).isTrue();
    char last = canonical.charAt(canonical.length() - 1);
    String flipped = canonical.substring(0, canonical.length() - 1) + ALPHABET.charAt(ALPHABET.indexOf(last) ^ 1);
    assertThat(TokenText.isCanonicalBase64Url(flipped)).isFalse();
  }

  @Test
  void decodeGivesTheBytes() {
    assertThat(TokenText.decode("AQIDBA")).containsExactly(1, 2, 3, 4);
  }
}
