package dev.jitaccess.relay.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.Http2DataFrame;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

final class AgentResponsePumpTest {

  /** Counts every buffer the channel allocates. */
  private static final class CountingAllocator extends AbstractByteBufAllocator {
    final AtomicInteger allocations = new AtomicInteger();

    CountingAllocator() {
      super(true);
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
      allocations.incrementAndGet();
      return Unpooled.buffer(initialCapacity, maxCapacity);
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
      allocations.incrementAndGet();
      return Unpooled.directBuffer(initialCapacity, maxCapacity);
    }

    @Override
    public boolean isDirectBufferPooled() {
      return false;
    }
  }

  /** A body whose reads record how much was asked for and how many buffers the channel held meanwhile. */
  private static final class RecordingSource extends InputStream {
    private final ByteArrayInputStream data;
    private final CountingAllocator counter;
    final List<Integer> blockingReadSizes = new ArrayList<>();
    final List<Integer> allocationsDuringBlockingReads = new ArrayList<>();

    RecordingSource(byte[] bytes, CountingAllocator counter) {
      this.data = new ByteArrayInputStream(bytes);
      this.counter = counter;
    }

    @Override
    public int read() {
      return data.read();
    }

    @Override
    public int read(byte[] b, int off, int len) {
      return data.read(b, off, len);
    }

    @Override
    public int read(byte[] b) {
      // the pump's blocking read: an idle stream waits here
      blockingReadSizes.add(b.length);
      allocationsDuringBlockingReads.add(counter.allocations.get());
      return data.read(b, 0, b.length);
    }

    @Override
    public int available() {
      return data.available();
    }
  }

  @Test
  void anIdleStreamWaitsWithASmallArrayAndNoChannelBuffer() {
    // the first blocking read happens before any buffer of the channel exists
    CountingAllocator allocator = new CountingAllocator();
    EmbeddedChannel stream = new EmbeddedChannel();
    stream.config().setAllocator(allocator);
    RecordingSource source = new RecordingSource(new byte[0], allocator);

    new AgentResponsePump(stream, source, Runnable::run).start();
    stream.runPendingTasks();

    assertThat(source.blockingReadSizes).containsOnly(AgentResponsePump.FIRST_READ_SIZE);
    assertThat(source.allocationsDuringBlockingReads).containsOnly(0);
    assertThat(allocator.allocations).hasValue(0);
    Http2DataFrame end = stream.readOutbound();
    assertThat(end.isEndStream()).isTrue();
    end.release();
  }

  @Test
  void bufferedBytesGoOutInFullChunksInOrderThenTheEnd() throws Exception {
    CountingAllocator allocator = new CountingAllocator();
    EmbeddedChannel stream = new EmbeddedChannel();
    stream.config().setAllocator(allocator);
    byte[] body = new byte[40 * 1024 + 7];
    for (int i = 0; i < body.length; i++) {
      body[i] = (byte) (i * 31);
    }
    RecordingSource source = new RecordingSource(body, allocator);

    new AgentResponsePump(stream, source, Runnable::run).start();
    for (int i = 0; i < 10; i++) {
      stream.runPendingTasks();
    }

    ByteArrayOutputStream received = new ByteArrayOutputStream();
    List<Integer> sizes = new ArrayList<>();
    boolean ended = false;
    for (Http2DataFrame frame; (frame = stream.readOutbound()) != null; ) {
      sizes.add(frame.content().readableBytes());
      ended |= frame.isEndStream();
      frame.content().readBytes(received, frame.content().readableBytes());
      frame.release();
    }
    assertThat(received.toByteArray()).isEqualTo(body);
    assertThat(sizes).startsWith(AgentResponsePump.CHUNK_SIZE, AgentResponsePump.CHUNK_SIZE).allMatch(s -> s <= AgentResponsePump.CHUNK_SIZE);
    assertThat(ended).isTrue();
  }
}
