package dev.jitaccess.spring.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jitaccess.api.Subject;
import dev.jitaccess.core.JitAccess;
import dev.jitaccess.relay.RelayServer;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

final class JitAccessRelayAutoConfigurationTest {
  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(JitAccessAutoConfiguration.class, JitAccessRelayAutoConfiguration.class));

  @TempDir Path dir;

  private String[] relayOn() {
    Path[] tls = TestPki.writeTls(dir);
    return new String[] {
      "jitaccess.relay.enabled=true",
      "jitaccess.relay.bind-address=127.0.0.1",
      "jitaccess.relay.port=0",
      "jitaccess.relay.tunnel-port=0",
      "jitaccess.relay.tls-key=" + tls[0],
      "jitaccess.relay.tls-certificate=" + tls[1],
      "jitaccess.relay.external-url=https://relay.example.com:9443"
    };
  }

  @Test
  void relayIsOffByDefault() {
    runner.run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(RelayServer.class));
  }

  @Test
  void relayWithTlsFilesStartsWithTheContextAndClosesWithIt() {
    AtomicReference<RelayServer> started = new AtomicReference<>();
    runner
        .withPropertyValues(relayOn())
        .run(
            context -> {
              assertThat(context).hasNotFailed().hasSingleBean(RelayServer.class);
              RelayServer relay = context.getBean(RelayServer.class);
              started.set(relay);
              assertThat(relay.port()).isPositive();
              assertThat(relay.tunnelPort()).isPositive().isNotEqualTo(relay.port());
              JitAccess jit = context.getBean(JitAccess.class);
              String kubeconfig = relay.kubeconfig("alice", "prod", jit.issueSessionToken(Subject.of("alice")));
              assertThat(kubeconfig).contains("https://relay.example.com:9443/clusters/prod");
            });
    assertThatThrownBy(() -> started.get().port())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("not started");
  }

  @Test
  void relayBacksOffWithoutTheRelayJar() {
    runner
        .withClassLoader(new FilteredClassLoader(RelayServer.class))
        .withPropertyValues(relayOn())
        .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean("jitAccessRelayServer"));
  }

  @Test
  void userRelayServerBeanWins() {
    Path[] tls = TestPki.writeTls(dir);
    runner
        .withPropertyValues(relayOn())
        .withBean(
            "myRelay",
            RelayServer.class,
            () ->
                RelayServer.builder()
                    .jitAccess(JitAccess.builder().build())
                    .tls(
                        dev.jitaccess.spring.autoconfigure.internal.PemFiles.privateKey(tls[0], "k"),
                        dev.jitaccess.spring.autoconfigure.internal.PemFiles.certificates(tls[1], "c"))
                    .build())
        .run(
            context -> {
              assertThat(context).hasNotFailed().hasSingleBean(RelayServer.class).hasBean("myRelay");
              assertThatThrownBy(() -> context.getBean(RelayServer.class).port())
                  .as("the application's relay is not started by the auto-configuration")
                  .isInstanceOf(IllegalStateException.class);
            });
  }

  @Test
  void relayEnabledWithoutTlsFailsStartUpNamingTheProperty() {
    runner
        .withPropertyValues("jitaccess.relay.enabled=true")
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .rootCause()
                    .hasMessageContaining("jitaccess.relay.tls-key is required when jitaccess.relay.enabled=true"));
  }

  @Test
  void relayPortOutOfRangeFailsStartUpNamingTheProperty() {
    runner
        .withPropertyValues("jitaccess.relay.port=70000")
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .rootCause()
                    .hasMessage("jitaccess.relay.port must be between 0 and 65535 but was 70000"));
  }

  @Test
  void unreadableTlsCertificateFailsStartUpNamingTheProperty() {
    String[] props = relayOn();
    props[5] = "jitaccess.relay.tls-certificate=" + dir.resolve("missing.crt");
    runner
        .withPropertyValues(props)
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .rootCause()
                    .hasMessageContaining("jitaccess.relay.tls-certificate: cannot read"));
  }
}
