package dev.jitaccess.relay.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The agent's reading of the relay's {@code jit-tunnel-slots} header: anything but a positive integer is "none". */
final class AgentHandshakeSlotsTest {

  @Test
  void positiveIntegersAreReadAndAnythingElseCountsAsNotAdvertised() {
    assertThat(AgentHandshakeHandler.slots("2")).isEqualTo(2);
    assertThat(AgentHandshakeHandler.slots(" 16 ")).isEqualTo(16);
    assertThat(AgentHandshakeHandler.slots(null)).isZero();
    assertThat(AgentHandshakeHandler.slots("")).isZero();
    assertThat(AgentHandshakeHandler.slots("two")).isZero();
    assertThat(AgentHandshakeHandler.slots("-3")).isZero();
    assertThat(AgentHandshakeHandler.slots("99999999999")).isZero();
  }
}
