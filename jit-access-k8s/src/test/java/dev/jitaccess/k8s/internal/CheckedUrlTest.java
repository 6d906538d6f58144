package dev.jitaccess.k8s.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import okhttp3.HttpUrl;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The URL a checked request goes to: resolved against the endpoint's root, byte-for-byte what was authorized. */
final class CheckedUrlTest {
  private static final ApiEndpoint ENDPOINT = ApiEndpoint.parse("https://api.example.com:6443/k8s/clusters/c1");
  private static final HttpUrl ROOT = OkHttpForwarder.root(ENDPOINT);

  private static HttpUrl checked(String pathAndQuery) {
    return OkHttpForwarder.checkedUrl(ROOT, ENDPOINT, new GuardedRequest("GET", pathAndQuery, List.of(), null));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/api/v1/namespaces",
        "/api/v1/namespaces?limit=5&x=%41",
        "/apis/apps/v1/namespaces/a/deployments/b:c@d!$&()*+,=",
        "/api/v1/namespaces?labelSelector=app%3Dweb,tier!=db&watch=1"
      })
  void targetsGoToTheEndpointHostUnderItsPrefixUnchanged(String target) {
    HttpUrl url = checked(target);
    assertThat(url.host()).isEqualTo("api.example.com");
    assertThat(url.port()).isEqualTo(6443);
    assertThat(url.scheme()).isEqualTo("https");
    int q = target.indexOf('?');
    assertThat(url.encodedPath()).isEqualTo("/k8s/clusters/c1" + (q < 0 ? target : target.substring(0, q)));
    assertThat(url.encodedQuery()).isEqualTo(q < 0 ? null : target.substring(q + 1));
  }

  /** OkHttp encodes an apostrophe in a query: the server would see another query than the one authorized. */
  @Test
  void aTargetOkHttpWouldReEncodeIsRefused() {
    assertThatThrownBy(() -> checked("/api/v1/namespaces?fieldSelector=a'b"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("byte-for-byte");
  }

  @Test
  void theRootIsSchemeHostAndPortOnly() {
    assertThat(ROOT).hasToString("https://api.example.com:6443/");
    assertThat(OkHttpForwarder.root(ApiEndpoint.parse("http://[::1]:8080"))).hasToString("http://[::1]:8080/");
  }
}
