package dev.jitaccess.core;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.WireMockServer;
import dev.jitaccess.api.AccessRequest;
import dev.jitaccess.api.AccessRequestState;
import dev.jitaccess.api.Subject;
import dev.jitaccess.testkit.MutableInstantSource;
import java.io.StringReader;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

final class WebhookNotifierTest {
  WireMockServer server;
  JitAccess jit;

  @BeforeEach
  void start() {
    server = new WireMockServer(wireMockConfig().dynamicPort());
    server.start();
    jit = JitAccess.builder()
        .clock(MutableInstantSource.at(Instant.parse("2026-03-01T09:00:00Z")))
        .policyProvider(RulePolicyProvider.fromYaml(new StringReader(AccessRequestWorkflowTest.POLICY), "p"))
        .notifier(WebhookNotifier.builder().uri(URI.create(server.baseUrl() + "/hook"))
            .timeout(Duration.ofSeconds(2)).build())
        .build();
  }

  @AfterEach
  void stop() {
    server.stop();
  }

  @Test
  void postsTheNotificationAsJson() {
    server.stubFor(post("/hook").willReturn(aResponse().withStatus(204)));
    AccessRequestState r = jit.requestAccess(
        new AccessRequest(AccessRequestWorkflowTest.ALICE, "prod", "JIRA-42 outage", Duration.ofHours(2)),
        Set.of("admin"));
    server.verify(1, postRequestedFor(urlEqualTo("/hook"))
        .withHeader("Content-Type", equalTo("application/json"))
        .withRequestBody(equalToJson("""
            {"kind":"CREATED","time":"2026-03-01T09:00:00Z","actor":"alice",
             "request":{"id":"%s","requester":"alice","cluster":"prod","roles":["admin"],
               "permissions":[{"clusterRole":"admin","namespace":"payments"}],"duration":"PT2H",
               "justification":"JIRA-42 outage","status":"pending","createdAt":"2026-03-01T09:00:00Z",
               "expiresAt":"2026-03-01T09:30:00Z","requiredApprovals":2,"approvals":0,"reviews":[],
               "extensions":0}}
            """.formatted(r.id()))));
    jit.approve(r.id(), Subject.of("bob"), "fine");
    server.verify(postRequestedFor(urlEqualTo("/hook"))
        .withRequestBody(matchingJsonPath("$.kind", equalTo("APPROVAL_RECORDED")))
        .withRequestBody(matchingJsonPath("$.request.reviews[0].reviewer", equalTo("bob")))
        .withRequestBody(matchingJsonPath("$.comment", equalTo("fine"))));
  }

  @Test
  void aFailingWebhookDoesNotBreakApproval() {
    server.stubFor(post("/hook").willReturn(aResponse().withStatus(500)));
    AccessRequestState r = jit.requestAccess(
        new AccessRequest(AccessRequestWorkflowTest.ALICE, "prod", "JIRA-1", null), Set.of("admin"));
    jit.approve(r.id(), Subject.of("bob"), null);
    assertThat(jit.approve(r.id(), Subject.of("carol"), null).status()).isEqualTo(AccessRequestState.Status.ACTIVE);
    server.verify(3, postRequestedFor(urlEqualTo("/hook")));
    server.stop(); // connection refused now
    assertThat(jit.cancel(r.id(), AccessRequestWorkflowTest.ALICE).status())
        .isEqualTo(AccessRequestState.Status.CANCELLED);
  }

  @Test
  void builderChecksItsInput() {
    assertThatThrownBy(() -> WebhookNotifier.builder().uri(URI.create("ftp://x/hook")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("absolute http or https URI");
    assertThatThrownBy(() -> WebhookNotifier.builder().timeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("timeout must be positive but was PT0S");
    assertThatThrownBy(() -> WebhookNotifier.builder().build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("uri must be set");
  }
}
