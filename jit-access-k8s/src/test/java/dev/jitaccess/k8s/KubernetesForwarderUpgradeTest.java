package dev.jitaccess.k8s;

import dev.jitaccess.api.ForwardRequest;
import dev.jitaccess.api.ForwardResponse;
import dev.jitaccess.api.UpgradedConnection;

import static dev.jitaccess.k8s.Fixtures.AGENT_TOKEN;
import static dev.jitaccess.k8s.Fixtures.SA_TOKEN;
import static dev.jitaccess.k8s.Fixtures.forwarder;
import static dev.jitaccess.k8s.Fixtures.headers;
import static dev.jitaccess.k8s.ScriptedServer.expectClosedByClient;
import static dev.jitaccess.k8s.ScriptedServer.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jitaccess.api.RelayException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

final class KubernetesForwarderUpgradeTest {
  private static final String EXEC =
      "/api/v1/namespaces/default/pods/web-0/exec?command=sh&stdin=true&stdout=true&tty=true";

  private static ForwardRequest spdyExec() {
    return ForwardRequest.of(
        "POST",
        EXEC,
        headers(
            "Connection", "Upgrade",
            "Upgrade", "SPDY/3.1",
            "X-Stream-Protocol-Version", "v4.channel.k8s.io",
            "Keep-Alive", "timeout=5",
            "User-Agent", "kubectl/v1.33.0"));
  }

  @Test
  void becomesABytepipeBothWaysAfterAMatching101() throws Exception {
    try (ScriptedServer server =
        new ScriptedServer(
            (head, in, out) -> {
              // the first server bytes travel in the same packet as the head: they must not be lost
              write(out, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
                  + "X-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\nhello");
              byte[] buffer = new byte[64];
              int n;
              while ((n = in.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
                out.flush();
              }
            })) {
      try (ForwardResponse response = forwarder(server.baseUrl()).forward(spdyExec(), SA_TOKEN)) {
      assertThat(response.status()).isEqualTo(101);
      assertThat(response.headers().get("upgrade")).containsExactly("SPDY/3.1");
      assertThat(response.headers()).doesNotContainKey("Connection");
      UpgradedConnection pipe = response.upgraded().orElseThrow();
      assertThat(pipe.protocol()).isEqualTo("SPDY/3.1");
      assertThat(new String(pipe.fromServer().readNBytes(5), StandardCharsets.US_ASCII)).isEqualTo("hello");
      pipe.toServer().write("ping".getBytes(StandardCharsets.US_ASCII));
      pipe.toServer().flush();
      assertThat(new String(pipe.fromServer().readNBytes(4), StandardCharsets.US_ASCII)).isEqualTo("ping");

      String head = server.requestHead();
      assertThat(head)
          .startsWith("POST " + EXEC + " HTTP/1.1\r\n")
          .contains("\r\nAuthorization: Bearer " + SA_TOKEN + "\r\n")
          .contains("\r\nConnection: Upgrade\r\n")
          .contains("\r\nUpgrade: SPDY/3.1\r\n")
          .contains("\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n")
          .doesNotContain(AGENT_TOKEN)
          .doesNotContainIgnoringCase("keep-alive");
      }
      server.awaitScript(); // the echo loop ends only when the forwarder closed the socket
    }
  }

  @Test
  void upgradesWebSocketsCaseInsensitively() throws Exception {
    try (ScriptedServer server =
        new ScriptedServer(
            (head, in, out) -> {
              write(out, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: upgrade\r\n"
                  + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                  + "Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n");
              expectClosedByClient(in);
            })) {
      ForwardRequest request =
          ForwardRequest.of(
              "GET",
              EXEC,
              headers(
                  "Connection", "Upgrade",
                  "Upgrade", "websocket",
                  "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==",
                  "Sec-WebSocket-Version", "13",
                  "Sec-WebSocket-Protocol", "v5.channel.k8s.io"));
      try (ForwardResponse response = forwarder(server.baseUrl()).forward(request, SA_TOKEN)) {
        assertThat(response.upgraded()).isPresent();
        assertThat(response.headers().get("Sec-WebSocket-Protocol")).containsExactly("v5.channel.k8s.io");
        assertThat(server.requestHead()).contains("\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n");
      }
      server.awaitScript();
    }
  }

  @Test
  void returnsAForbiddenAnswerAsAnOrdinaryResponseAndClosesTheConnection() throws Exception {
    String status =
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"Forbidden\",\"code\":403}";
    try (ScriptedServer server =
        new ScriptedServer(
            (head, in, out) -> {
              write(out, "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: "
                  + status.length() + "\r\n\r\n" + status);
              expectClosedByClient(in);
            })) {
      try (ForwardResponse response = forwarder(server.baseUrl()).forward(spdyExec(), SA_TOKEN)) {
        assertThat(response.status()).isEqualTo(403);
        assertThat(response.upgraded()).isEmpty();
        assertThat(response.headers().get("Content-Type")).containsExactly("application/json");
        assertThat(new String(response.body().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(status);
        server.awaitScript(); // closed before the caller even closed the response
      }
    }
  }

  @Test
  void readsAChunkedRefusal() throws Exception {
    try (ScriptedServer server =
        new ScriptedServer(
            (head, in, out) -> {
              write(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n");
              expectClosedByClient(in);
            });
        ForwardResponse response = forwarder(server.baseUrl()).forward(spdyExec(), SA_TOKEN)) {
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.upgraded()).isEmpty();
      assertThat(response.headers()).doesNotContainKey("Transfer-Encoding");
      assertThat(new String(response.body().readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("hello world");
      server.awaitScript();
    }
  }

  @Test
  void refusesA101ToAnotherProtocolAndClosesTheConnection() throws Exception {
    try (ScriptedServer server =
        new ScriptedServer(
            (head, in, out) -> {
              write(out, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n");
              expectClosedByClient(in);
            })) {
      assertThatThrownBy(() -> forwarder(server.baseUrl()).forward(spdyExec(), SA_TOKEN))
          .isInstanceOf(RelayException.class)
          .hasMessageContaining("h2c")
          .hasMessageContaining("SPDY/3.1")
          .hasMessageContaining("closed");
      server.awaitScript();
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: SPDY/3.1\r\n\r\n", // no Connection: Upgrade
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n", // no Upgrade
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n X-Folded: 1\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\rUpgrade: SPDY/3.1\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\nConnection: Upgrade\nUpgrade: SPDY/3.1\n\n",
        "HTTP/1.1 1O1 Switching Protocols\r\n\r\n",
        "SSH-2.0-OpenSSH_9.6\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\n",
        "HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        "HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
        "HTTP/1.1 403 Forbidden\r\nContent-Length: +5\r\n\r\nhello"
      })
  void refusesMalformedOrAmbiguousAnswersAndClosesTheConnection(String answer) throws Exception {
    try (ScriptedServer server =
        new ScriptedServer(
            (head, in, out) -> {
              write(out, answer);
              expectClosedByClient(in);
            })) {
      assertThatThrownBy(() -> forwarder(server.baseUrl()).forward(spdyExec(), SA_TOKEN))
          .isInstanceOf(RelayException.class)
          .hasMessageContaining("closed")
          .hasMessageNotContaining(SA_TOKEN);
      server.awaitScript();
    }
  }

  @Test
  void refusesAnOversizedResponseHead() throws Exception {
    try (ScriptedServer server =
        new ScriptedServer(
            (head, in, out) -> {
              StringBuilder answer = new StringBuilder("HTTP/1.1 101 Switching Protocols\r\n");
              for (int i = 0; i < 200; i++) {
                answer.append("X-Padding-").append(i).append(": ").append("x".repeat(40)).append("\r\n");
              }
              try {
                write(out, answer.append("\r\n").toString());
              } catch (IOException e) {
                return; // the forwarder stopped reading and closed: fine
              }
              expectClosedByClient(in);
            })) {
      assertThatThrownBy(() -> forwarder(server.baseUrl()).forward(spdyExec(), SA_TOKEN))
          .isInstanceOf(RelayException.class)
          .hasMessageContaining("8192");
      server.awaitScript();
    }
  }

  @Test
  void stripsHopByHopResponseHeadersOnPlainRequests() throws Exception {
    try (ScriptedServer server =
        new ScriptedServer(
            (head, in, out) ->
                write(out, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close, X-Hop\r\nX-Hop: 1\r\n"
                    + "Keep-Alive: timeout=5\r\nProxy-Authenticate: Basic\r\nX-Kept: yes\r\n\r\nok"));
        ForwardResponse response =
            forwarder(server.baseUrl()).forward(ForwardRequest.of("GET", "/version", Map.of()), SA_TOKEN)) {
      assertThat(new String(response.body().readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("ok");
      assertThat(response.headers()).containsKeys("X-Kept", "Content-Length");
      assertThat(response.headers()).doesNotContainKeys("Connection", "X-Hop", "Keep-Alive", "Proxy-Authenticate");
      assertThat(server.requestHead())
          .startsWith("GET /version HTTP/1.1\r\n")
          .containsIgnoringCase("\r\nAuthorization: Bearer " + SA_TOKEN + "\r\n")
          .containsIgnoringCase("\r\nAccept-Encoding: identity\r\n");
    }
  }
}
