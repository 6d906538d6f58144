package dev.jitaccess.relay.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.ReferenceCountUtil;
import java.nio.ByteBuffer;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Flow;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies a non-blocking response body (a {@link Flow.Publisher} from the forwarder) into one tunnel stream
 * without any thread of its own: the forwarder's signals put headers, chunks and the end into an outbox, and
 * one task on the stream's event loop writes everything queued and flushes once (a small answer whose head,
 * body and end arrive together leaves in one flush).
 *
 * <p>Back-pressure: the next chunk is requested only while the tunnel stream is writable and less than
 * {@link #MAX_QUEUED} bytes are queued but unwritten; otherwise the subscription pauses and the event loop
 * resumes it when the stream drains. What a slow kubectl makes the agent hold is therefore the forwarder's
 * stream window plus this hand-over, and no thread waits for an idle watch.
 */
final class AgentResponseStream implements Flow.Subscriber<ByteBuffer> {
  private static final Logger log = LoggerFactory.getLogger(AgentResponseStream.class);

  /** Bytes received but not yet written to the tunnel beyond which no more are requested. */
  static final long MAX_QUEUED = 64 * 1024;

  private static final Object END = new Object();

  private record Failure(Throwable cause) {}

  private final Channel stream;
  private final Queue<Object> outbox = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean drainScheduled = new AtomicBoolean();
  private final AtomicBoolean paused = new AtomicBoolean();
  private final AtomicLong queued = new AtomicLong();
  private volatile Flow.@Nullable Subscription subscription;
  /** Set once the body ended, failed or the stream closed: nothing more is requested. */
  private volatile boolean finished;

  /**
   * @param stream the tunnel stream to answer on
   * @param headers the response headers, written before the first chunk
   */
  AgentResponseStream(Channel stream, Http2Headers headers) {
    this.stream = stream;
    outbox.add(headers);
  }

  /** Subscribes to the body; the headers leave with whatever the publisher delivers at once. */
  void start(Flow.Publisher<ByteBuffer> body) {
    body.subscribe(this);
    scheduleDrain();
  }

  /** On the event loop: the stream closed (client gone, revoked, expired, tunnel lost); stop and release. */
  void close() {
    finished = true;
    Flow.Subscription s = subscription;
    if (s != null) {
      s.cancel();
    }
    scheduleDrain(); // releases what is still queued
  }

  /** On the event loop: the stream's writability changed. */
  void writabilityChanged() {
    resumeIfPaused();
  }

  @Override
  public void onSubscribe(Flow.Subscription s) {
    if (subscription != null) {
      s.cancel();
      return;
    }
    subscription = s;
    if (finished) {
      s.cancel();
      return;
    }
    s.request(1);
  }

  @Override
  public void onNext(ByteBuffer chunk) {
    int size = chunk.remaining();
    if (size > 0) {
      queued.addAndGet(size);
      outbox.add(Unpooled.wrappedBuffer(chunk));
      scheduleDrain();
    }
    requestOrPause();
  }

  @Override
  public void onError(Throwable cause) {
    finished = true;
    outbox.add(new Failure(cause));
    scheduleDrain();
  }

  @Override
  public void onComplete() {
    finished = true;
    outbox.add(END);
    scheduleDrain();
  }

  private boolean mayRequest() {
    return !finished && stream.isWritable() && queued.get() < MAX_QUEUED;
  }

  /** After a chunk: ask for the next one, or pause until the event loop sees the stream drain. */
  private void requestOrPause() {
    Flow.Subscription s = subscription;
    if (s == null || finished) {
      return;
    }
    if (mayRequest()) {
      s.request(1);
      return;
    }
    paused.set(true);
    // A drain or writability change between the check and the flag saw no pause and did nothing.
    if (mayRequest() && paused.compareAndSet(true, false)) {
      s.request(1);
    }
  }

  private void resumeIfPaused() {
    Flow.Subscription s = subscription;
    if (s != null && paused.get() && mayRequest() && paused.compareAndSet(true, false)) {
      s.request(1);
    }
  }

  private void scheduleDrain() {
    if (!drainScheduled.compareAndSet(false, true)) {
      return;
    }
    try {
      stream.eventLoop().execute(this::drain);
    } catch (RejectedExecutionException shuttingDown) {
      releaseAll();
    }
  }

  /** On the event loop: writes everything queued, in order, and flushes once. */
  private void drain() {
    drainScheduled.set(false);
    if (!stream.isActive()) {
      releaseAll();
      return;
    }
    boolean wrote = false;
    Object item;
    while ((item = outbox.poll()) != null) {
      boolean endNext = outbox.peek() == END;
      if (item instanceof Http2Headers headers) {
        stream.write(new DefaultHttp2HeadersFrame(headers, endNext));
      } else if (item instanceof ByteBuf chunk) {
        queued.addAndGet(-chunk.readableBytes());
        stream.write(new DefaultHttp2DataFrame(chunk, endNext));
      } else if (item == END) {
        // Only reached when END follows nothing that could carry it (it normally rides on the last frame).
        stream.write(new DefaultHttp2DataFrame(true));
      } else if (item instanceof Failure failure) {
        log.debug("Response body of stream {} failed; resetting it: {}", stream.id(), failure.cause().toString());
        releaseAll();
        stream.close();
        return;
      }
      wrote = true;
      if (endNext) {
        outbox.poll();
      }
    }
    if (wrote) {
      stream.flush();
    }
    resumeIfPaused();
  }

  private void releaseAll() {
    Object item;
    while ((item = outbox.poll()) != null) {
      if (item instanceof ByteBuf chunk) {
        queued.addAndGet(-chunk.readableBytes());
      }
      ReferenceCountUtil.release(item);
    }
  }
}
