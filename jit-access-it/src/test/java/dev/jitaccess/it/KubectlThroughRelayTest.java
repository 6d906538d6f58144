package dev.jitaccess.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import java.nio.file.Path;
import java.util.List;
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
  void getNamespacesListsTheClustersNamespacesWithTheServiceAccountToken() throws Exception {
    String session = env.sessionToken(E2eEnvironment.ALICE);

    Kubectl.Result result = env.kubectl.run(env.kubeconfig(E2eEnvironment.ALICE, session), "get", "ns");

    assertThat(result.exit()).as(result.toString()).isZero();
    assertThat(result.out()).contains("NAME").contains("default").contains("kube-system").contains("team-a");
    List<LoggedRequest> forwarded = env.kube.kubectlRequests();
    assertThat(forwarded)
        .extracting(r -> r.getMethod().getName() + " " + r.getUrl())
        .anyMatch(line -> line.startsWith("GET /api/v1/namespaces"));
    for (LoggedRequest r : forwarded) {
      System.out.println(r.getMethod() + " " + r.getUrl() + " " + r.getHeaders().keys());
    }
  }
}
