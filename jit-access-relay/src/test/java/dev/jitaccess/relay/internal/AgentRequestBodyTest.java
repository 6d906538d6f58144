package dev.jitaccess.relay.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

final class AgentRequestBodyTest {

  @Test
  void fullPipeAsksTheWriterToPauseAndResumesItAtHalf() throws IOException {
    AtomicInteger resumed = new AtomicInteger();
    AgentRequestBody body = new AgentRequestBody(8, resumed::incrementAndGet);

    assertThat(body.offer(Unpooled.wrappedBuffer(new byte[4]))).isTrue();
    assertThat(body.offer(Unpooled.wrappedBuffer(new byte[4]))).isFalse();
    body.read(new byte[2]);
    assertThat(resumed).hasValue(0);
    body.read(new byte[2]);

    assertThat(resumed).hasValue(1);
  }

  @Test
  void bytesArriveInOrderAndEndAfterFinish() throws IOException {
    AgentRequestBody body = new AgentRequestBody(1024, () -> {});
    body.offer(Unpooled.copiedBuffer("hello ", StandardCharsets.UTF_8));
    body.offer(Unpooled.copiedBuffer("world", StandardCharsets.UTF_8));
    body.finish();

    assertThat(new String(body.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("hello world");
  }

  @Test
  void failureReachesTheReader() {
    AgentRequestBody body = new AgentRequestBody(1024, () -> {});
    body.offer(Unpooled.copiedBuffer("partial", StandardCharsets.UTF_8));

    body.fail(new IOException("stream reset"));

    assertThatThrownBy(body::read).isInstanceOf(IOException.class).hasMessage("stream reset");
  }
}
