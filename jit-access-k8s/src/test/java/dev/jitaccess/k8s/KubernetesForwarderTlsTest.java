package dev.jitaccess.k8s;

import static dev.jitaccess.k8s.Fixtures.SA_TOKEN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jitaccess.api.ForwardRequest;
import dev.jitaccess.api.ForwardResponse;
import dev.jitaccess.api.RelayException;
import io.kubernetes.client.openapi.ApiClient;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** TLS of the HTTP/2 path: trust and hostname verification from the ApiClient, and the fallback without h2. */
final class KubernetesForwarderTlsTest {
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  private <T extends AutoCloseable> T closing(T closeable) {
    closeables.add(closeable);
    return closeable;
  }

  private static ForwardRequest get() {
    return ForwardRequest.of("GET", "/api/v1/namespaces", Map.of());
  }

  private static void ok(H2TlsStub.Stream s, io.netty.handler.codec.http2.Http2Headers r) {
    s.head(200);
    s.data("ok", true);
  }

  @Test
  void anUntrustedServerCertificateIsRefused() throws Exception {
    H2TlsStub stub = closing(H2TlsStub.start(KubernetesForwarderTlsTest::ok));
    ApiClient untrusting = Fixtures.inClusterLikeApiClient(stub.baseUrl("127.0.0.1"));
    KubernetesForwarder forwarder = closing(KubernetesForwarder.builder().apiClient(untrusting).build());

    assertThatThrownBy(() -> forwarder.forwardAsync(get(), SA_TOKEN).get(10, TimeUnit.SECONDS))
        .cause()
        .isInstanceOf(RelayException.class)
        .hasMessageContaining("127.0.0.1:" + stub.port())
        .hasMessageContaining("SSLHandshakeException")
        .hasCauseInstanceOf(SSLHandshakeException.class);
    assertThat(stub.requests).isEmpty();
  }

  @Test
  void aCertificateForAnotherHostIsRefusedWhenVerifyingAndAcceptedWhenNot() throws Exception {
    // the stub's certificate names localhost and 127.0.0.1, not 127.0.0.2
    H2TlsStub stub = closing(H2TlsStub.startOn("127.0.0.2", KubernetesForwarderTlsTest::ok));
    KubernetesForwarder verifying =
        closing(KubernetesForwarder.builder().apiClient(stub.apiClient(stub.baseUrl("127.0.0.2"))).build());

    assertThatThrownBy(() -> verifying.forward(get(), SA_TOKEN))
        .isInstanceOf(RelayException.class)
        .hasRootCauseInstanceOf(java.security.cert.CertificateException.class);
    assertThat(stub.requests).isEmpty();

    ApiClient notVerifying = stub.apiClient(stub.baseUrl("127.0.0.2"));
    notVerifying.setVerifyingSsl(false);
    KubernetesForwarder trusting = closing(KubernetesForwarder.builder().apiClient(notVerifying).build());
    try (ForwardResponse response = trusting.forward(get(), SA_TOKEN)) {
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyPublisher()).isPresent(); // it went over HTTP/2 with Netty
    }
  }

  @Test
  void aServerWithoutH2IsServedByOkHttpAndTheFallbackIsRemembered() throws Exception {
    H2TlsStub stub = closing(H2TlsStub.http1Only());
    KubernetesForwarder forwarder = closing(KubernetesForwarder.builder().apiClient(stub.apiClient()).build());

    for (int i = 0; i < 3; i++) {
      try (ForwardResponse response = forwarder.forwardAsync(get(), SA_TOKEN).get(10, TimeUnit.SECONDS)) {
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.bodyPublisher()).isEmpty(); // an OkHttp response
        assertThat(new String(response.body().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("ok");
      }
    }
    assertThat(stub.requests).hasSize(3);
    // one connection that Netty closed after ALPN chose http/1.1, then OkHttp's pooled one; no new Netty tries
    assertThat(stub.connections).hasValue(2);
  }
}
