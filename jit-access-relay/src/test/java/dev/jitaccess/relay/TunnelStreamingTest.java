package dev.jitaccess.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.jitaccess.relay.TunnelFakes.EchoServer;
import dev.jitaccess.relay.TunnelFakes.EndlessBody;
import dev.jitaccess.relay.TunnelFakes.SimpleResponse;
import dev.jitaccess.relay.internal.TunnelHeaders;
import java.io.ByteArrayInputStream;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

final class TunnelStreamingTest {
  private static final Duration WAIT = Duration.ofSeconds(5);

  private final TunnelFixture fixture = new TunnelFixture();

  @AfterEach
  void close() {
    fixture.close();
  }

  private String connectedAgentWithGrant() {
    fixture.startAgent("cred-a");
    await().atMost(WAIT).until(() -> fixture.registry().isConnected("a"));
    return fixture.grant("g1", "alice", Duration.ofMinutes(5));
  }

  @Test
  void fastStreamReadSlowlyDoesNotBlockAnotherRequestOnTheSameTunnel() throws Exception {
    String grant = connectedAgentWithGrant();
    EndlessBody endless = new EndlessBody(true);
    fixture.forwarder.responder =
        r -> r.pathAndQuery().equals("/big")
            ? new SimpleResponse(200, endless, Optional.empty())
            : new SimpleResponse(200, "small");

    TunnelTestClient big =
        TunnelTestClient.send(fixture.registry(), "a", TunnelTestClient.get("/big", grant), null, true, true);
    assertThat(big.status(WAIT)).isEqualTo("200");
    // The agent stops reading the source once the stream's flow-control window is full.
    await().atMost(WAIT).until(() -> endless.bytesRead.get() > 64 * 1024);
    await().during(Duration.ofMillis(500)).atMost(WAIT).until(() -> endless.bytesRead.get() < 1024 * 1024);

    TunnelTestClient small = TunnelTestClient.simple(fixture.registry(), "a", "/small", grant);

    assertThat(small.awaitBody(Duration.ofSeconds(2))).isEqualTo("small");
    assertThat(endless.bytesRead.get()).isLessThan(1024 * 1024);
  }

  @Test
  void requestBodyIsStreamedToTheForwarder() throws Exception {
    String grant = connectedAgentWithGrant();
    byte[] upload = new byte[300 * 1024];
    Arrays.fill(upload, (byte) 'x');

    TunnelTestClient client =
        TunnelTestClient.send(
            fixture.registry(),
            "a",
            TunnelTestClient.get("/api/v1/namespaces", grant).method("POST").setInt("content-length", upload.length),
            upload,
            true);

    assertThat(client.status(WAIT)).isEqualTo("200");
    assertThat(fixture.forwarder.calls).hasSize(1);
    assertThat(fixture.forwarder.calls.get(0).body()).isEqualTo(upload);
    assertThat(fixture.forwarder.calls.get(0).request().contentLength()).isEqualTo(upload.length);
  }

  @Test
  void revokedSubjectsOpenStreamIsClosedAtOnceAndItsOldGrantRefused() throws Exception {
    String grant = connectedAgentWithGrant();
    EndlessBody watch = new EndlessBody(false);
    SimpleResponse response = new SimpleResponse(200, watch, Optional.empty());
    fixture.forwarder.responder = r -> response;
    TunnelTestClient client =
        TunnelTestClient.simple(fixture.registry(), "a", "/api/v1/namespaces?watch=true", grant);
    assertThat(client.status(WAIT)).isEqualTo("200");
    await().atMost(WAIT).until(() -> client.body().equals("event\n"));

    fixture.registry().revoke("alice", "a");

    await().atMost(Duration.ofSeconds(2)).until(() -> client.done.isCompletedExceptionally());
    await().atMost(WAIT).until(response::isClosed);
    await().atMost(WAIT).until(() -> fixture.provisioner.removed.contains("alice"));
    TunnelTestClient replay = TunnelTestClient.simple(fixture.registry(), "a", "/api", grant);
    assertThat(replay.status(WAIT)).isEqualTo("403");
    assertThat(fixture.forwarder.calls).hasSize(1);
  }

  @Test
  void grantIssuedAfterTheRevocationIsAccepted() throws Exception {
    connectedAgentWithGrant();
    fixture.registry().revoke("alice", "a");
    await().atMost(WAIT).until(() -> fixture.provisioner.removed.contains("alice"));

    fixture.clock.advance(Duration.ofSeconds(2));
    String fresh = fixture.grant("g2", "alice", Duration.ofMinutes(5));

    assertThat(TunnelTestClient.simple(fixture.registry(), "a", "/api", fresh).status(WAIT)).isEqualTo("200");
  }

  @Test
  void grantExpiryClosesItsOpenStream() throws Exception {
    fixture.startAgent("cred-a");
    await().atMost(WAIT).until(() -> fixture.registry().isConnected("a"));
    // Expired 59.7 s ago by the fake clock: within the agent's 60 s skew, 300 ms of tolerance remain.
    String shortGrant = fixture.grantEnding("g1", "alice", fixture.clock.instant().minusMillis(59_700));
    EndlessBody watch = new EndlessBody(false);
    SimpleResponse response = new SimpleResponse(200, watch, Optional.empty());
    fixture.forwarder.responder = r -> response;

    TunnelTestClient client = TunnelTestClient.simple(fixture.registry(), "a", "/api?watch=true", shortGrant);

    assertThat(client.status(WAIT)).isEqualTo("200");
    await().atMost(Duration.ofSeconds(3)).until(() -> client.done.isCompletedExceptionally());
    await().atMost(WAIT).until(response::isClosed);
  }

  @Test
  void upgradeAnsweredWith101BecomesAByteStreamBothWays() throws Exception {
    String grant = connectedAgentWithGrant();
    EchoServer server = new EchoServer();
    fixture.forwarder.responder = r -> new SimpleResponse(101, new ByteArrayInputStream(new byte[0]), Optional.of(server));

    TunnelTestClient client = exec(grant);

    assertThat(client.status(WAIT)).isEqualTo("200");
    assertThat(client.headers.get().get(TunnelHeaders.UPGRADED_HEADER)).hasToString("v5.channel.k8s.io");
    assertThat(fixture.forwarder.calls.get(0).request().header("upgrade")).isEqualTo("v5.channel.k8s.io");
    assertThat(fixture.forwarder.calls.get(0).request().header("connection")).isEqualTo("Upgrade");
    client.sendData("ping", false);
    await().atMost(WAIT).until(() -> client.body().equals("ping"));
  }

  @Test
  void revocationClosesAnOpenExecPipeOnBothSidesAtOnce() throws Exception {
    String grant = connectedAgentWithGrant();
    EchoServer server = new EchoServer();
    fixture.forwarder.responder = r -> new SimpleResponse(101, new ByteArrayInputStream(new byte[0]), Optional.of(server));
    TunnelTestClient client = exec(grant);
    assertThat(client.status(WAIT)).isEqualTo("200");
    client.sendData("ping", false);
    await().atMost(WAIT).until(() -> client.body().equals("ping"));

    fixture.registry().revoke("alice", "a");

    await().atMost(Duration.ofSeconds(2)).until(() -> client.done.isDone());
    await().atMost(WAIT).until(server::isClosed);
    assertThat(TunnelTestClient.simple(fixture.registry(), "a", "/api", grant).status(WAIT)).isEqualTo("403");
    assertThat(fixture.forwarder.calls).hasSize(1);
  }

  @Test
  void grantExpiryClosesAnOpenExecPipeOnBothSides() throws Exception {
    fixture.startAgent("cred-a");
    await().atMost(WAIT).until(() -> fixture.registry().isConnected("a"));
    // Expired 59 s ago by the fake clock: within the agent's 60 s skew, 1 s of tolerance remains.
    String shortGrant = fixture.grantEnding("g1", "alice", fixture.clock.instant().minusSeconds(59));
    EchoServer server = new EchoServer();
    fixture.forwarder.responder = r -> new SimpleResponse(101, new ByteArrayInputStream(new byte[0]), Optional.of(server));

    TunnelTestClient client = exec(shortGrant);

    assertThat(client.status(WAIT)).isEqualTo("200");
    client.sendData("ping", false);
    await().atMost(WAIT).until(() -> client.body().equals("ping"));
    await().atMost(Duration.ofSeconds(3)).until(() -> client.done.isDone());
    await().atMost(WAIT).until(server::isClosed);
  }

  private TunnelTestClient exec(String grant) {
    return TunnelTestClient.send(
        fixture.registry(),
        "a",
        TunnelTestClient.get("/api/v1/namespaces/x/pods/p/exec", grant).set(TunnelHeaders.UPGRADE_HEADER, "v5.channel.k8s.io"),
        null,
        false);
  }

  @Test
  void upgradeRefusedByTheServerIsPassedBackWithoutAPipe() throws Exception {
    String grant = connectedAgentWithGrant();
    fixture.forwarder.responder = r -> new SimpleResponse(403, "forbidden");

    TunnelTestClient client =
        TunnelTestClient.send(
            fixture.registry(),
            "a",
            TunnelTestClient.get("/api/v1/namespaces/x/pods/p/exec", grant)
                .set(TunnelHeaders.UPGRADE_HEADER, "v5.channel.k8s.io"),
            null,
            false);

    assertThat(client.status(WAIT)).isEqualTo("403");
    assertThat(client.headers.get().get(TunnelHeaders.UPGRADED_HEADER)).isNull();
    assertThat(client.awaitBody(WAIT)).isEqualTo("forbidden");
  }
}
