package dev.jitaccess.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.jitaccess.api.AccessRequest;
import dev.jitaccess.api.Decision;
import dev.jitaccess.api.Grant;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.Subject;
import dev.jitaccess.core.GrantVerifier;
import dev.jitaccess.core.JitAccess;
import dev.jitaccess.relay.TunnelFakes.EndlessBody;
import dev.jitaccess.relay.TunnelFakes.FakeForwarder;
import dev.jitaccess.relay.TunnelFakes.FakeProvisioner;
import dev.jitaccess.relay.TunnelFakes.MutableClock;
import dev.jitaccess.relay.TunnelFakes.SimpleResponse;
import dev.jitaccess.relay.internal.DefaultTunnelRegistry;
import dev.jitaccess.testkit.TestCertificates;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * SECURITY 16 and 17 at the agent: a real {@link RelayAgent} of cluster {@code a} with the real {@link
 * GrantVerifier}, behind a real {@link RelayServer} on the real engine, sent grants the engine signed (honest,
 * tampered, for another cluster, expired, revoked) straight over the relay's tunnel, as a relay that misbehaves
 * would. Fakes only at the Kubernetes SPIs. The agent records no audit event for a refusal (it has no audit
 * sink; refusals are logged at DEBUG), so each refusal is told apart by the message of its {@code Status}.
 */
final class RelayAgentGrantVerificationTest {
  private static final TestCertificates CERTS = TestCertificates.create();
  private static final Duration WAIT = Duration.ofSeconds(5);
  private static final Duration SKEW = Duration.ofSeconds(60);
  private static final String REFUSED = "the grant was refused by the agent";
  private static final String REVOKED = "access was revoked for alice";

  private final MutableClock clock = new MutableClock();
  private final FakeProvisioner provisioner = new FakeProvisioner(clock);
  private final FakeForwarder forwarder = new FakeForwarder();
  private JitAccess jit;
  private RelayServer relay;
  private RelayAgent agent;

  @BeforeEach
  void start() {
    jit =
        JitAccess.builder()
            .policyProvider(r -> new Decision.Granted(List.of(Permission.clusterWide("view")), Duration.ofMinutes(5)))
            .clock(clock)
            .build();
    relay = RelayServer.builder().tls(CERTS.serverKey(), CERTS.serverChain()).jitAccess(jit).build().start();
    forwarder.responder =
        r -> r.pathAndQuery().contains("watch=true")
            ? new SimpleResponse(200, new EndlessBody(false), Optional.empty())
            : new SimpleResponse(200, "hello from " + r.pathAndQuery());
  }

  @AfterEach
  void stop() {
    if (agent != null) {
      agent.close();
    }
    relay.close();
  }

  /** The agent of cluster {@code a} on the engine's clock, with {@code jit.grantVerifier("a")}. */
  private void startAgent() {
    startAgent(clock, jit.grantVerifier("a"));
  }

  /** The agent of cluster {@code a} on its own clock, verifying as an agent in another process would. */
  private void startAgentWithClock(InstantSource agentClock) {
    startAgent(
        agentClock,
        GrantVerifier.builder().jwks(jit.publicJwks()).issuer(jit.issuer()).cluster("a").clock(agentClock).build());
  }

  private void startAgent(InstantSource agentClock, GrantVerifier verifier) {
    agent =
        RelayAgent.builder()
            .relayUri(URI.create("https://localhost:" + relay.tunnelPort()))
            .credential(jit.issueAgentCredential("a", Duration.ofHours(1)))
            .trustedCertificates(CERTS.ca())
            .provisioner(provisioner)
            .forwarder(forwarder)
            .clock(agentClock)
            .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(300))
            .grantVerifier(verifier)
            .build()
            .start();
    await().atMost(WAIT).until(() -> agent.isConnected() && tunnels().isConnected("a"));
  }

  private DefaultTunnelRegistry tunnels() {
    return Objects.requireNonNull(relay.builtInTunnelRegistry(), "the relay's built-in tunnel registry");
  }

  /** What the relay puts in the grant header: the engine's signature of the grant it authorized. */
  private String signedGrant(String subject, String cluster) {
    return jit.signGrant(jit.authorize(AccessRequest.of(Subject.of(subject), cluster)));
  }

  /** A grant for alice on cluster {@code a} with exact times, signed by the engine. */
  private String signedGrant(String id, Instant issuedAt, Instant expiresAt) {
    return jit.signGrant(
        new Grant(id, Subject.of("alice"), "a", List.of(Permission.clusterWide("view")), issuedAt, expiresAt));
  }

  /** Sends a request with this grant to the agent of cluster {@code a} over the relay's tunnel. */
  private TunnelTestClient send(String path, String jws) {
    return TunnelTestClient.simple(tunnels(), "a", path, jws);
  }

  private static void assertAnswered(TunnelTestClient answer, int code, String message) throws Exception {
    assertThat(answer.status(WAIT)).isEqualTo(String.valueOf(code));
    assertThat(answer.awaitBody(WAIT))
        .contains("\"kind\":\"Status\"")
        .contains("\"code\":" + code)
        .contains("\"message\":\"" + message + "\"");
  }

  private void assertNothingReachedTheCluster() {
    assertThat(forwarder.calls).isEmpty();
    assertThat(provisioner.ensureCalls).hasValue(0);
  }

  /** Flips the lowest bit of one byte of the decoded payload (alice becomes alicd): still valid JSON. */
  private static String withPayloadByteFlipped(String jws) {
    String[] parts = jws.split("\\.");
    byte[] payload = Base64.getUrlDecoder().decode(parts[1]);
    int alice = new String(payload, StandardCharsets.UTF_8).indexOf("\"sub\":\"alice\"");
    assertThat(alice).as("the payload names alice").isNotNegative();
    payload[alice + "\"sub\":\"alic".length()] ^= 1;
    return parts[0] + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(payload) + "." + parts[2];
  }

  /** Replaces one base64url character in the middle of the signature (all of its 6 bits count there). */
  private static String withSignatureCharacterFlipped(String jws) {
    int signature = jws.lastIndexOf('.') + 1;
    int at = signature + (jws.length() - signature) / 2;
    char flipped = jws.charAt(at) == 'A' ? 'B' : 'A';
    return jws.substring(0, at) + flipped + jws.substring(at + 1);
  }

  private static HttpClient http() {
    return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(CERTS.clientContext()).build();
  }

  @Test
  void honestGrantIsAcceptedAndForwardedOnce() throws Exception {
    startAgent();

    TunnelTestClient answer = send("/api/v1/namespaces", signedGrant("alice", "a"));

    assertThat(answer.status(WAIT)).isEqualTo("200");
    assertThat(answer.awaitBody(WAIT)).isEqualTo("hello from /api/v1/namespaces");
    assertThat(forwarder.calls).hasSize(1);
    assertThat(forwarder.calls.get(0).token()).isEqualTo("sa-token-1");
    assertThat(provisioner.ensureCalls).hasValue(1);
  }

  @Test
  void grantWithOneByteOfItsPayloadFlippedIsRefused() throws Exception {
    startAgent();
    String forged = withPayloadByteFlipped(signedGrant("alice", "a"));
    assertThat(new String(Base64.getUrlDecoder().decode(forged.split("\\.")[1]), StandardCharsets.UTF_8))
        .as("a well-formed claim set that only the signature can give away")
        .contains("\"sub\":\"alicd\"");

    assertAnswered(send("/api", forged), 401, REFUSED);
    assertNothingReachedTheCluster();
  }

  @Test
  void grantWithOneCharacterOfItsSignatureFlippedIsRefused() throws Exception {
    startAgent();
    String honest = signedGrant("alice", "a");
    String forged = withSignatureCharacterFlipped(honest);
    assertThat(forged).hasSameSizeAs(honest).isNotEqualTo(honest);

    assertAnswered(send("/api", forged), 401, REFUSED);
    assertNothingReachedTheCluster();
  }

  @Test
  void grantForClusterBSentToTheAgentOfClusterAIsRefused() throws Exception {
    startAgent();

    assertAnswered(send("/api", signedGrant("alice", "b")), 401, REFUSED);
    assertNothingReachedTheCluster();
  }

  @Test
  void grantExpiredBeyondTheSkewIsRefusedWhetherRememberedOrNot() throws Exception {
    startAgent();
    Instant now = clock.instant();
    String remembered = signedGrant("alice", "a");
    String unseen = signedGrant("g-unseen", now, now.plus(Duration.ofMinutes(5)));
    assertThat(send("/api", remembered).status(WAIT)).as("verified once, then remembered").isEqualTo("200");
    forwarder.calls.clear();
    provisioner.ensureCalls.set(0);

    clock.advance(Duration.ofMinutes(5).plus(SKEW).plusSeconds(1));

    assertAnswered(send("/api", remembered), 401, REFUSED);
    assertAnswered(send("/api", unseen), 401, REFUSED);
    assertNothingReachedTheCluster();
  }

  @Test
  void revokedSubjectsGrantReplayedAfterTheEngineRevokedIsRefused() throws Exception {
    startAgent();
    String used = signedGrant("alice", "a");
    String unused = signedGrant("g-unused", clock.instant(), clock.instant().plus(Duration.ofMinutes(5)));
    assertThat(send("/api", used).status(WAIT)).isEqualTo("200");
    assertThat(forwarder.calls).hasSize(1);

    clock.advance(Duration.ofSeconds(5));
    jit.revoke("alice");
    // The engine told the relay, the relay told the agent: the tombstone is set before the account is removed.
    await().atMost(WAIT).until(() -> provisioner.removed.contains("alice"));

    assertAnswered(send("/api", used), 403, REVOKED);
    assertAnswered(send("/api", unused), 403, REVOKED);
    assertThat(forwarder.calls).hasSize(1);
    assertThat(provisioner.ensureCalls).hasValue(1);
    assertThat(send("/api", signedGrant("bob", "a")).status(WAIT)).as("another subject is unaffected").isEqualTo("200");
  }

  @Test
  void grantPastItsExpiryWithinTheSkewIsAcceptedAndItsWatchStaysOpen() throws Exception {
    startAgent();
    Instant now = clock.instant();
    String grant = signedGrant("g-1", now, now.plus(Duration.ofMinutes(5)));

    clock.advance(Duration.ofMinutes(5).plusSeconds(30));

    assertThat(send("/api", grant).awaitBody(WAIT)).isEqualTo("hello from /api");
    TunnelTestClient watch = send("/api/v1/pods?watch=true", grant);
    assertThat(watch.status(WAIT)).isEqualTo("200");
    await().atMost(WAIT).until(() -> watch.body().equals("event\n"));
    await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> !watch.done.isDone());
    clock.advance(Duration.ofSeconds(31));
    assertAnswered(send("/api", grant), 401, REFUSED);
  }

  @Test
  void agentWhoseClockRunsAheadWithinTheSkewServesAGrantTheRelayStillHolds() throws Exception {
    startAgentWithClock(() -> clock.instant().plusSeconds(30));
    String alice = jit.issueSessionToken(Subject.of("alice"), Duration.ofHours(1));
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("https://localhost:" + relay.port() + "/clusters/a/api"))
            .header("Authorization", "Bearer " + alice)
            .build();
    assertThat(http().send(request, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);

    clock.advance(Duration.ofMinutes(5).minusSeconds(10)); // the relay's grant has 10 s left; 20 s past, agent-side

    HttpResponse<String> late = http().send(request, HttpResponse.BodyHandlers.ofString());
    assertThat(late.statusCode()).as(late.body()).isEqualTo(200);
    assertThat(forwarder.calls).hasSize(2);
  }

  @Test
  void revokedGrantIsRefusedByAnAgentWhoseClockLagsWithinTheSkew() throws Exception {
    startAgentWithClock(() -> clock.instant().minusSeconds(30));
    String grant = signedGrant("alice", "a");
    assertThat(send("/api", grant).status(WAIT)).isEqualTo("200");

    clock.advance(Duration.ofSeconds(5));
    jit.revoke("alice");
    await().atMost(WAIT).until(() -> provisioner.removed.contains("alice"));

    assertAnswered(send("/api", grant), 403, REVOKED);
    assertThat(forwarder.calls).hasSize(1);
  }
}
