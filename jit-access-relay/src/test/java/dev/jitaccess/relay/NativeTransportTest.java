package dev.jitaccess.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.jitaccess.api.Decision;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.Subject;
import dev.jitaccess.core.JitAccess;
import dev.jitaccess.relay.TunnelFakes.FakeForwarder;
import dev.jitaccess.relay.TunnelFakes.FakeProvisioner;
import dev.jitaccess.relay.TunnelFakes.MutableClock;
import dev.jitaccess.relay.internal.Transports;
import dev.jitaccess.relay.testing.ConnectProxy;
import dev.jitaccess.testkit.TestCertificates;
import io.netty.channel.Channel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.ReferenceCountedOpenSslContext;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslHandler;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code nativeTransport(boolean)}: epoll and OpenSSL (BoringSSL) where their natives load, NIO and the JDK's TLS
 * otherwise, on both sides, with everything the relay does over TLS working the same either way.
 */
final class NativeTransportTest {
  private static final TestCertificates CERTS = TestCertificates.create();
  private static final Duration WAIT = Duration.ofSeconds(10);

  private final MutableClock clock = new MutableClock();
  private final FakeProvisioner provisioner = new FakeProvisioner(clock);
  private final FakeForwarder forwarder = new FakeForwarder();
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private JitAccess jit;

  @BeforeEach
  void engine() {
    jit =
        JitAccess.builder()
            .policyProvider(r -> new Decision.Granted(List.of(Permission.clusterWide("view")), Duration.ofMinutes(5)))
            .clock(clock)
            .build();
  }

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable closeable : closeables) {
      closeable.close();
    }
  }

  private RelayServer relay(boolean nativeTransport) {
    RelayServer relay =
        RelayServer.builder()
            .tls(CERTS.serverKey(), CERTS.serverChain())
            .jitAccess(jit)
            .nativeTransport(nativeTransport)
            .build()
            .start();
    closeables.add(0, relay);
    return relay;
  }

  private RelayAgent.Builder agentBuilder(String relayHost, int port, boolean nativeTransport) {
    return RelayAgent.builder()
        .relayUri(URI.create("https://" + relayHost + ":" + port))
        .credential(jit.issueAgentCredential("c1", Duration.ofHours(1)))
        .trustedCertificates(CERTS.ca())
        .provisioner(provisioner)
        .forwarder(forwarder)
        .clock(clock)
        .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(300))
        .grantVerifier(jit.grantVerifier("c1"))
        .nativeTransport(nativeTransport);
  }

  private RelayAgent start(RelayAgent.Builder builder) {
    RelayAgent agent = builder.build();
    closeables.add(0, agent);
    return agent.start();
  }

  private HttpResponse<String> get(RelayServer relay, HttpClient.Version version, String path) throws Exception {
    String token = jit.issueSessionToken(Subject.of("alice"), Duration.ofHours(1));
    HttpClient client = HttpClient.newBuilder().version(version).sslContext(CERTS.clientContext()).build();
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("https://localhost:" + relay.port() + path))
            .header("Authorization", "Bearer " + token)
            .build();
    return client.send(request, HttpResponse.BodyHandlers.ofString());
  }

  private static boolean nativeAvailable() {
    boolean available = Transports.epollAvailable() && Transports.openSslAvailable();
    if (!available) {
      System.out.println("Native transport/TLS not available here: " + Transports.nativeUnavailabilityCause());
    }
    return available;
  }

  @Test
  void nativeTransportUsesEpollAndOpenSslOnBothSidesWhenTheirNativesLoad() throws Exception {
    Assumptions.assumeTrue(nativeAvailable(), () -> "epoll/OpenSSL unavailable: " + Transports.nativeUnavailabilityCause());
    RelayServer relay = relay(true);
    RelayAgent agent = start(agentBuilder("localhost", relay.tunnelPort(), true));
    await().atMost(WAIT).until(agent::isConnected);

    assertThat(relay.transports()).isEqualTo(new Transports(true, true));
    assertThat(relay.userListener()).isInstanceOf(EpollServerSocketChannel.class);
    assertThat(relay.userSslContext()).isInstanceOf(ReferenceCountedOpenSslContext.class);
    assertThat(relay.tunnelSslContext()).isInstanceOf(ReferenceCountedOpenSslContext.class);
    Channel tunnel = Objects.requireNonNull(agent.tunnelChannel());
    assertThat(tunnel).isInstanceOf(EpollSocketChannel.class);
    assertThat(tunnel.pipeline().get(SslHandler.class).engine()).isInstanceOf(ReferenceCountedOpenSslEngine.class);
    assertThat(get(relay, HttpClient.Version.HTTP_2, "/clusters/c1/api/v1/pods").body())
        .isEqualTo("hello from /api/v1/pods");
  }

  @Test
  void nativeTransportFalseUsesNioAndTheJdksTlsOnBothSides() throws Exception {
    RelayServer relay = relay(false);
    RelayAgent agent = start(agentBuilder("localhost", relay.tunnelPort(), false));
    await().atMost(WAIT).until(agent::isConnected);

    assertThat(relay.transports()).isEqualTo(Transports.JDK);
    assertThat(relay.userListener()).isInstanceOf(NioServerSocketChannel.class);
    assertThat(relay.userSslContext()).isInstanceOf(JdkSslContext.class);
    assertThat(relay.tunnelSslContext()).isInstanceOf(JdkSslContext.class);
    Channel tunnel = Objects.requireNonNull(agent.tunnelChannel());
    assertThat(tunnel).isInstanceOf(NioSocketChannel.class);
    assertThat(tunnel.pipeline().get(SslHandler.class).engine()).isNotInstanceOf(ReferenceCountedOpenSslEngine.class);
    assertThat(get(relay, HttpClient.Version.HTTP_2, "/clusters/c1/api/v1/pods").body())
        .isEqualTo("hello from /api/v1/pods");
  }

  @ParameterizedTest(name = "relay native {0}, agent native {1}")
  @CsvSource({"true,true", "false,false", "true,false", "false,true"})
  void requestsRoundTripOverHttp1AndHttp2WithEitherImplementationOnEitherSide(
      boolean relayNative, boolean agentNative) throws Exception {
    RelayServer relay = relay(relayNative);
    RelayAgent agent = start(agentBuilder("localhost", relay.tunnelPort(), agentNative));
    await().atMost(WAIT).until(agent::isConnected);

    HttpResponse<String> h1 = get(relay, HttpClient.Version.HTTP_1_1, "/clusters/c1/api/v1/namespaces");
    HttpResponse<String> h2 = get(relay, HttpClient.Version.HTTP_2, "/clusters/c1/api/v1/pods?limit=1");

    assertThat(h1.statusCode()).isEqualTo(200);
    assertThat(h1.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
    assertThat(h1.body()).isEqualTo("hello from /api/v1/namespaces");
    assertThat(h2.statusCode()).isEqualTo(200);
    assertThat(h2.version()).isEqualTo(HttpClient.Version.HTTP_2);
    assertThat(h2.body()).isEqualTo("hello from /api/v1/pods?limit=1");
    assertThat(forwarder.calls).hasSize(2);
    assertThat(forwarder.calls.get(0).token()).startsWith("sa-token-");
  }

  @ParameterizedTest(name = "native {0}")
  @ValueSource(booleans = {true, false})
  void userSideNegotiatesH2AndHttp11ByAlpnOnTls12And13(boolean nativeTransport) throws Exception {
    RelayServer relay = relay(nativeTransport);

    assertThat(handshake(relay, "TLSv1.3", "h2", "http/1.1")).isEqualTo("TLSv1.3 h2");
    assertThat(handshake(relay, "TLSv1.2", "h2", "http/1.1")).isEqualTo("TLSv1.2 h2");
    assertThat(handshake(relay, "TLSv1.3", "http/1.1")).isEqualTo("TLSv1.3 http/1.1");
    assertThat(handshake(relay, "TLSv1.2", "http/1.1")).isEqualTo("TLSv1.2 http/1.1");
  }

  @ParameterizedTest(name = "native {0}")
  @ValueSource(booleans = {true, false})
  void clientWithoutAlpnIsServedHttp11(boolean nativeTransport) throws Exception {
    RelayServer relay = relay(nativeTransport);

    try (SSLSocket socket = tlsSocket(relay, "TLSv1.3")) {
      socket.startHandshake();
      assertThat(socket.getApplicationProtocol()).isEmpty();
      OutputStream out = socket.getOutputStream();
      out.write(
          "GET /clusters/c1/api HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
              .getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = socket.getInputStream();
      String answer = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
      assertThat(answer).startsWith("HTTP/1.1 401");
    }
  }

  private String handshake(RelayServer relay, String protocol, String... alpn) throws Exception {
    try (SSLSocket socket = tlsSocket(relay, protocol)) {
      SSLParameters params = socket.getSSLParameters();
      params.setApplicationProtocols(alpn);
      socket.setSSLParameters(params);
      socket.startHandshake();
      return socket.getSession().getProtocol() + " " + socket.getApplicationProtocol();
    }
  }

  private static SSLSocket tlsSocket(RelayServer relay, String protocol) throws Exception {
    Socket plain = new Socket();
    plain.connect(new InetSocketAddress("localhost", relay.port()), 5_000);
    SSLSocket socket =
        (SSLSocket) CERTS.clientContext().getSocketFactory().createSocket(plain, "localhost", relay.port(), true);
    SSLParameters params = socket.getSSLParameters();
    params.setProtocols(new String[] {protocol});
    params.setEndpointIdentificationAlgorithm("HTTPS");
    socket.setSSLParameters(params);
    socket.setSoTimeout(10_000);
    return socket;
  }

  @ParameterizedTest(name = "native {0}")
  @ValueSource(booleans = {true, false})
  void agentThroughAConnectProxyServesAndRefusesARelayWhoseCertificateNamesAnotherHost(boolean nativeTransport)
      throws Exception {
    RelayServer relay = relay(nativeTransport);
    ConnectProxy proxy = ConnectProxy.start();
    closeables.add(0, proxy);
    URI proxyUri = URI.create("http://127.0.0.1:" + proxy.port());
    // The relay's certificate names localhost and the loopback address, not relay.invalid.
    proxy.redirectTo(new InetSocketAddress("127.0.0.1", relay.tunnelPort()));
    RelayAgent wrongName = start(agentBuilder("relay.invalid", relay.tunnelPort(), nativeTransport).proxy(proxyUri));

    // The agent keeps dialing: a handshake that passed would stop it at one CONNECT.
    await().atMost(WAIT).until(() -> proxy.connectTargets().size() >= 3);
    assertThat(wrongName.isConnected()).isFalse();
    assertThat(wrongName.transports().openSsl()).isEqualTo(nativeTransport && Transports.openSslAvailable());
    wrongName.close();

    RelayAgent rightName = start(agentBuilder("localhost", relay.tunnelPort(), nativeTransport).proxy(proxyUri));
    await().atMost(WAIT).until(rightName::isConnected);
    assertThat(proxy.connectTargets()).contains("localhost:" + relay.tunnelPort());
    assertThat(get(relay, HttpClient.Version.HTTP_2, "/clusters/c1/api").body()).isEqualTo("hello from /api");
  }

  @Test
  void ioThreadsBelowOneAreRefusedAtOnce() {
    assertThatThrownBy(() -> RelayServer.builder().ioThreads(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("ioThreads must be at least 1 but was 0");
    assertThatThrownBy(() -> RelayAgent.builder().ioThreads(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("ioThreads must be at least 1 but was -1");
  }
}
