package dev.jitaccess.relay.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies a blocking {@link InputStream} into DATA frames of one stream: reads a chunk on the worker executor,
 * writes it on the event loop, and reads the next chunk only while the stream channel is writable. The
 * stream's HTTP/2 flow-control window therefore bounds what a slow reader makes the agent hold, and a fast
 * producer cannot crowd out other streams on the tunnel.
 */
final class AgentResponsePump {
  private static final Logger log = LoggerFactory.getLogger(AgentResponsePump.class);

  /** Largest chunk read from the source at once. */
  static final int CHUNK_SIZE = 16 * 1024;

  /** What the blocking read of each chunk asks for; the rest of the chunk is what was already buffered. */
  static final int FIRST_READ_SIZE = 512;

  private final Channel stream;
  private final InputStream source;
  private final Executor executor;
  private boolean waitingForWritable;
  private volatile boolean stopped;

  AgentResponsePump(Channel stream, InputStream source, Executor executor) {
    this.stream = stream;
    this.source = source;
    this.executor = executor;
  }

  /** Starts copying; call once, from any thread. */
  void start() {
    schedule();
  }

  /** Stops copying (the stream closed); the source is closed by its owner. */
  void stop() {
    stopped = true;
  }

  /** Called on the event loop when the stream channel's writability changed. */
  void writabilityChanged() {
    if (waitingForWritable && stream.isWritable()) {
      waitingForWritable = false;
      schedule();
    }
  }

  private void schedule() {
    try {
      executor.execute(this::readChunk);
    } catch (RejectedExecutionException e) {
      stream.close();
    }
  }

  private void readChunk() {
    if (stopped) {
      return;
    }
    // Block with a small array only: an idle stream (a watch) may wait here for hours, and a 16 KiB chunk
    // (plus the 16 KiB heap copy buffer Netty uses to fill a direct buffer from a stream) held per waiting
    // stream was most of the agent's memory per idle watch. What else is already buffered is read at once.
    byte[] first = new byte[FIRST_READ_SIZE];
    ByteBuf chunk = null;
    int n;
    try {
      n = source.read(first);
      if (n > 0) {
        int more = Math.max(0, Math.min(source.available(), CHUNK_SIZE - n));
        chunk = stream.alloc().buffer(n + more);
        chunk.writeBytes(first, 0, n);
        if (more > 0) {
          chunk.writeBytes(source, more); // -1 if the end came early: the next read sees it again
        }
      }
    } catch (IOException | RuntimeException e) {
      if (chunk != null) {
        chunk.release();
      }
      if (!stopped) {
        log.debug("Response body of stream {} failed; resetting it: {}", stream.id(), e.toString());
        stream.close();
      }
      return;
    }
    if (n < 0) {
      stream.eventLoop().execute(this::writeEnd);
    } else if (chunk == null) {
      schedule(); // a read of zero bytes: ask again
    } else {
      ByteBuf full = chunk;
      stream.eventLoop().execute(() -> writeChunk(full));
    }
  }

  private void writeChunk(ByteBuf chunk) {
    if (stopped || !stream.isActive()) {
      chunk.release();
      return;
    }
    stream.writeAndFlush(new DefaultHttp2DataFrame(chunk, false));
    if (stream.isWritable()) {
      schedule();
    } else {
      waitingForWritable = true;
    }
  }

  private void writeEnd() {
    if (!stopped && stream.isActive()) {
      stream.writeAndFlush(new DefaultHttp2DataFrame(true));
    }
  }
}
