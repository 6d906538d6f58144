package dev.jitaccess.relay.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies a blocking {@link InputStream} into DATA frames of one stream: a worker reads chunks and hands each to the
 * event loop, and keeps reading (without a hop back through the event loop per chunk) while the stream channel is
 * writable and less than {@link #MAX_QUEUED} bytes are handed over but not yet written. The stream's HTTP/2
 * flow-control window plus that hand-over therefore bound what a slow reader makes the agent hold, and a fast
 * producer cannot crowd out other streams on the tunnel. When it must wait, the worker is released; the event loop
 * resumes the copy on the executor when the stream drains.
 */
final class AgentResponsePump {
  private static final Logger log = LoggerFactory.getLogger(AgentResponsePump.class);

  /** Largest chunk read from the source at once. */
  static final int CHUNK_SIZE = 16 * 1024;

  /** What the blocking read of each chunk asks for; the rest of the chunk is what was already buffered. */
  static final int FIRST_READ_SIZE = 512;

  /** Bytes read and handed to the event loop but not yet written there, beyond which the worker pauses. */
  static final long MAX_QUEUED = 2L * CHUNK_SIZE;

  private final Channel stream;
  private final InputStream source;
  private final Executor executor;
  /** True while a worker copies or is about to; only the holder reads the source. */
  private final AtomicBoolean running = new AtomicBoolean();
  private final AtomicLong queued = new AtomicLong();
  private volatile boolean stopped;
  /** Set once the end was read; nothing resumes the copy after it. */
  private volatile boolean ended;

  AgentResponsePump(Channel stream, InputStream source, Executor executor) {
    this.stream = stream;
    this.source = source;
    this.executor = executor;
  }

  /** Starts copying on the executor; call once, from any thread (or {@link #runHere()} instead). */
  void start() {
    resume();
  }

  /**
   * Starts copying on the calling thread, which must be a worker that may block (saves a hand-off when the caller
   * is already one). Returns when the body ended, failed, or the stream must drain first.
   */
  void runHere() {
    if (running.compareAndSet(false, true)) {
      copy();
    }
  }

  /** Stops copying (the stream closed); the source is closed by its owner. */
  void stop() {
    stopped = true;
  }

  /** Called on the event loop when the stream channel's writability changed. */
  void writabilityChanged() {
    resume();
  }

  private boolean mayRead() {
    return stream.isWritable() && queued.get() < MAX_QUEUED;
  }

  private void resume() {
    if (stopped || ended || !mayRead() || !running.compareAndSet(false, true)) {
      return;
    }
    try {
      executor.execute(this::copy);
    } catch (RejectedExecutionException e) {
      running.set(false);
      stream.close();
    }
  }

  /** On a worker holding {@link #running}. */
  private void copy() {
    while (!stopped) {
      if (!mayRead()) {
        running.set(false);
        // A write or writability change between the check and the release found running set and did nothing.
        if (mayRead() && running.compareAndSet(false, true)) {
          continue;
        }
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
        ended = true;
        stream.eventLoop().execute(this::writeEnd);
        return;
      }
      if (chunk != null) {
        ByteBuf full = chunk;
        int size = full.readableBytes();
        queued.addAndGet(size);
        try {
          stream.eventLoop().execute(() -> writeChunk(full, size));
        } catch (RejectedExecutionException shuttingDown) {
          full.release();
          return;
        }
      }
    }
  }

  private void writeChunk(ByteBuf chunk, int size) {
    queued.addAndGet(-size);
    if (stopped || !stream.isActive()) {
      chunk.release();
      return;
    }
    stream.writeAndFlush(new DefaultHttp2DataFrame(chunk, false));
    resume(); // a no-op while the worker still copies
  }

  private void writeEnd() {
    if (!stopped && stream.isActive()) {
      stream.writeAndFlush(new DefaultHttp2DataFrame(true));
    }
  }
}
