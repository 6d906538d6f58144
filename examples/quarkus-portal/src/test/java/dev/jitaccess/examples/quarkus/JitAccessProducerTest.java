package dev.jitaccess.examples.quarkus;

import static org.assertj.core.api.Assertions.assertThat;

import dev.jitaccess.core.JitAccess;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import org.junit.jupiter.api.Test;

@QuarkusTest
final class JitAccessProducerTest {
  @Inject JitAccess jit;

  @Test
  void engineTakesGrantTtlAndIssuerFromTheJitaccessProperties() {
    // src/test/resources/application.properties sets these, different from the defaults
    assertThat(jit.grantTtl()).isEqualTo(Duration.ofMinutes(3));
    assertThat(jit.issuer()).isEqualTo("jit-access-test");
  }
}
