package dev.jitaccess.k8s.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The bearer token check accepts exactly the RFC 6750 b64token language. */
final class RequestGuardTokenTest {
  /** The grammar as a regular expression: the oracle the loop is compared with. */
  private static final Pattern B64TOKEN = Pattern.compile("[A-Za-z0-9\\-._~+/]+=*");

  @ParameterizedTest
  @ValueSource(
      strings = {"a", "abc", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln-_~+/", "a=", "a==", "Zm9v+/=="})
  void tokensOfTheGrammarAreAccepted(String token) {
    assertThat(RequestGuard.isB64Token(token)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "=", "==", "=a", "a=b", "a b", "a\r\nX-Injected: 1", "a,b", "a;b", "tök", "a\u0000"})
  void anythingElseIsRefused(String token) {
    assertThat(RequestGuard.isB64Token(token)).isFalse();
  }

  @Test
  void agreesWithTheGrammarOnRandomStrings() {
    String alphabet = "aZ09-._~+/=; \t\r\n,\"é\u0000";
    Random random = new Random(42);
    List<String> disagreements = new ArrayList<>();
    for (int i = 0; i < 50_000; i++) {
      StringBuilder token = new StringBuilder();
      for (int n = random.nextInt(8); n > 0; n--) {
        token.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      String t = token.toString();
      if (RequestGuard.isB64Token(t) != B64TOKEN.matcher(t).matches()) {
        disagreements.add(t);
      }
    }
    assertThat(disagreements).isEmpty();
  }
}
