package dev.jitaccess.it;

import static dev.jitaccess.it.E2eEnvironment.ALICE;
import static dev.jitaccess.it.E2eEnvironment.CLUSTER;
import static dev.jitaccess.it.KubeApiStub.NAMESPACES;
import static dev.jitaccess.it.KubeApiStub.SA_TOKEN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.github.tomakehurst.wiremock.http.HttpHeader;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import dev.jitaccess.api.AuditEvent;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real kubectl → RelayServer (TLS) → RelayAgent → stubbed kube-apiserver (TLS), for a permitted user. */
final class KubectlThroughRelayTest {
  @TempDir Path dir;
  private E2eEnvironment env;

  @BeforeEach
  void start() throws Exception {
    assumeTrue(Kubectl.installed(), "kubectl is not on the PATH");
    env = new E2eEnvironment(dir);
  }

  @AfterEach
  void stop() {
    if (env != null) {
      env.close();
    }
  }

  @Test
  void getNamespacesReachesTheApiServerWithTheServiceAccountTokenOnly() throws Exception {
    String session = env.sessionToken(ALICE);

    Kubectl.Result result = env.kubectl.run(env.kubeconfig(ALICE, session), "get", "ns");

    assertThat(result.exit()).as(result.toString()).isZero();
    assertThat(result.out()).contains("NAME").contains("default").contains("kube-system").contains("team-a");
    List<LoggedRequest> forwarded = env.kube.kubectlRequests();
    assertThat(forwarded)
        .extracting(KubectlThroughRelayTest::line)
        .contains("GET /api", "GET /api/v1")
        .anyMatch(line -> line.startsWith("GET " + NAMESPACES + "?"));
    assertThat(forwarded)
        .allSatisfy(
            r -> {
              assertThat(r.getHeaders().getHeader("Authorization").values())
                  .as("Authorization of %s", line(r))
                  .containsExactly("Bearer " + SA_TOKEN);
              assertThat(r.getHeaders().keys())
                  .as("headers of %s", line(r))
                  .noneMatch(name -> name.toLowerCase().startsWith("impersonate-"))
                  .noneMatch(name -> name.equalsIgnoreCase("jit-grant"))
                  .noneMatch(name -> name.equalsIgnoreCase("proxy-authorization"));
              // the agent's non-blocking path: HTTP/2 with Netty, no thread held per request
              assertThat(r.getProtocol()).as("protocol of %s", line(r)).isEqualTo("HTTP/2.0");
            });
    assertThat(env.kube.requests())
        .filteredOn(r -> forwarded.stream().noneMatch(f -> f.getId().equals(r.getId())))
        .as("everything else is provisioning by the agent's client")
        .isNotEmpty()
        .allSatisfy(
            r -> {
              assertThat(r.getHeader("User-Agent")).startsWith("Kubernetes Java Client");
              assertThat(r.getUrl()).matches("/api/v1/namespaces/jit-access/serviceaccounts.*|/apis/rbac.*");
              assertThat(r.containsHeader("Authorization")).isFalse();
            });
    assertNoRequestCarries(session);
  }

  @Test
  void createNamespacePostsTheObjectToTheApiServer() throws Exception {
    env.kube.stubCreateNamespace("x");

    Kubectl.Result result = env.kubectl.run(env.kubeconfig(ALICE), "create", "ns", "x");

    assertThat(result.exit()).as(result.toString()).isZero();
    assertThat(result.out()).contains("namespace/x created");
    List<LoggedRequest> posts =
        env.kube.kubectlRequests().stream().filter(r -> line(r).startsWith("POST " + NAMESPACES)).toList();
    assertThat(posts).hasSize(1);
    LoggedRequest post = posts.get(0);
    assertThat(post.getHeader("Authorization")).isEqualTo("Bearer " + SA_TOKEN);
    // kubectl sends built-in kinds in Kubernetes' protobuf envelope: magic "k8s\0", then an Unknown whose
    // TypeMeta is {apiVersion: v1, kind: Namespace} and whose raw object has metadata.name "x".
    assertThat(post.getHeader("Content-Type")).isEqualTo("application/vnd.kubernetes.protobuf");
    byte[] body = post.getBody();
    assertThat(body).startsWith(new byte[] {'k', '8', 's', 0});
    assertThat(new String(body, StandardCharsets.ISO_8859_1))
        .contains("\n\u0002v1\u0012\u0009Namespace")
        .contains("\n\u0001x");
    assertThat(body.length).isEqualTo(Integer.parseInt(post.getHeader("Content-Length")));
  }

  @Test
  void watchStreamsEachEventAsItArrives() throws Exception {
    env.kube.stubWatch("watched-one", "watched-two", Duration.ofSeconds(2));

    Process watch = env.kubectl.start(env.kubeconfig(ALICE), "get", "ns", "--watch");
    String whenFirstArrived;
    try {
      await("first watch event printed")
          .atMost(Duration.ofSeconds(20))
          .pollInterval(Duration.ofMillis(25))
          .until(() -> env.kubectl.result(watch).out().contains("watched-one"));
      whenFirstArrived = env.kubectl.result(watch).out();
      await("second watch event printed")
          .atMost(Duration.ofSeconds(20))
          .until(() -> env.kubectl.result(watch).out().contains("watched-two"));
    } finally {
      watch.destroy();
      watch.waitFor(5, TimeUnit.SECONDS);
    }

    // The stub holds the second event back for 2 s: the first one went through relay and agent on its own.
    assertThat(whenFirstArrived).contains("team-a").doesNotContain("watched-two");
    String out = env.kubectl.result(watch).out();
    assertThat(out.indexOf("watched-one")).isLessThan(out.indexOf("watched-two"));
    List<LoggedRequest> watches =
        env.kube.kubectlRequests().stream()
            .filter(r -> r.getUrl().startsWith(NAMESPACES + "?") && r.getUrl().matches(".*[?&]watch=(true|1)(&.*)?"))
            .toList();
    assertThat(watches).hasSize(1);
    assertThat(watches.get(0).getHeader("Authorization")).isEqualTo("Bearer " + SA_TOKEN);
  }

  @Test
  void theServiceAccountIsProvisionedOnceForRepeatedCalls() throws Exception {
    Path kubeconfig = env.kubeconfig(ALICE);

    for (int i = 0; i < 3; i++) {
      Kubectl.Result result = env.kubectl.run(kubeconfig, "get", "ns");
      assertThat(result.exit()).as(result.toString()).isZero();
    }
    env.kube.stubCreateNamespace("y");
    assertThat(env.kubectl.run(kubeconfig, "create", "ns", "y").out()).contains("namespace/y created");

    assertThat(env.kube.kubectlRequests().stream().filter(r -> line(r).startsWith("GET " + NAMESPACES + "?")))
        .hasSize(3);
    assertThat(env.kube.serviceAccountCreations()).as("ServiceAccount creations").isEqualTo(1);
    assertThat(env.kube.tokenRequests()).as("TokenRequests").isEqualTo(1);
    assertThat(env.kube.clusterRoleBindingCreations()).as("ClusterRoleBinding creations (view, edit)").isEqualTo(2);
  }

  @Test
  void impersonationByKubectlIsRefusedBeforeTheCluster() throws Exception {
    Kubectl.Result result =
        env.kubectl.run(env.kubeconfig(ALICE), "get", "ns", "--as=system:admin", "--as-group=system:masters");

    assertThat(result.exit()).isNotZero();
    assertThat(result.err()).contains("BadRequest");
    assertThat(result.out()).doesNotContain("team-a");
    assertThat(env.kube.requests()).as("requests at the kube-apiserver").isEmpty();
    assertThat(env.audit)
        .anyMatch(e -> e.type() == AuditEvent.Type.DENIED && String.valueOf(e.detail()).contains("impersonation"));
  }

  @Test
  void spoofableIdentityHeadersAndCookiesNeverReachTheApiServer() throws Exception {
    String session = env.sessionToken(ALICE);
    HttpClient client = HttpClient.newBuilder().sslContext(env.relayCerts.clientContext()).build();
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("https://localhost:" + env.relay.port() + "/clusters/" + CLUSTER + NAMESPACES))
            .header("Authorization", "Bearer " + session)
            .header("X-Forwarded-For", "6.6.6.6")
            .header("X-Forwarded-Host", "evil.example")
            .header("X-Remote-User", "system:admin")
            .header("X-Remote-Group", "system:masters")
            .header("Cookie", "session=stolen-cookie")
            .timeout(Duration.ofSeconds(20))
            .build();

    assertThat(client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(200);

    List<LoggedRequest> forwarded =
        env.kube.requests().stream().filter(r -> r.getUrl().equals(NAMESPACES)).toList();
    assertThat(forwarded).hasSize(1);
    LoggedRequest seen = forwarded.get(0);
    assertThat(seen.getHeader("Authorization")).isEqualTo("Bearer " + SA_TOKEN);
    assertThat(seen.getHeaders().keys())
        .noneMatch(name -> name.toLowerCase(Locale.ROOT).startsWith("x-remote-"))
        .noneMatch(name -> name.equalsIgnoreCase("cookie"))
        .noneMatch(name -> name.equalsIgnoreCase("x-forwarded-host"));
    // The relay replaces the user's X-Forwarded-For with the address it saw; the user's value never arrives.
    if (seen.containsHeader("X-Forwarded-For")) {
      assertThat(seen.getHeader("X-Forwarded-For")).doesNotContain("6.6.6.6");
    }
    assertNoRequestCarries("stolen-cookie");
    assertNoRequestCarries("system:masters");
    assertNoRequestCarries(session);
  }

  private void assertNoRequestCarries(String secret) {
    assertThat(env.kube.requests())
        .allSatisfy(
            r -> {
              for (HttpHeader header : r.getHeaders().all()) {
                assertThat(header.values()).as("header %s of %s", header.key(), line(r)).noneMatch(v -> v.contains(secret));
              }
              assertThat(r.getUrl()).doesNotContain(secret);
              assertThat(r.getBodyAsString()).doesNotContain(secret);
            });
  }

  /** Method and path without the {@code timeout} kubectl adds. */
  static String line(LoggedRequest r) {
    String url = r.getUrl().replaceAll("[?&]timeout=[^&]*$", "").replaceAll("timeout=[^&]*&", "");
    return r.getMethod().getName() + " " + url;
  }
}
