package dev.jitaccess.it;

import static dev.jitaccess.it.E2eEnvironment.BOB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Users the relay refuses: denied by policy, revoked. */
final class RefusedUsersTest {
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
  void explore() throws Exception {
    Path config = env.kubeconfig(BOB);
    Kubectl.Result result = env.kubectl.run(config, "get", "ns");
    System.out.println("GETNS " + result);
    result = env.kubectl.run(config, "get", "ns", "-v=8");
    System.out.println("GETNSV " + result);
    result = env.kubectl.run(config, "get", "--raw", "/clusters/c1/api/v1/namespaces");
    System.out.println("RAW " + result);
    assertThat(result.exit()).isNotZero();
  }
}
