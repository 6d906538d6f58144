package dev.jitaccess.k8s.internal;

import dev.jitaccess.api.ForwardResponse;
import io.netty.util.concurrent.EventExecutor;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import org.jspecify.annotations.Nullable;

/**
 * A blocking {@link InputStream} over a response's body publisher, for callers that prefer to read on their
 * own thread. It asks for one buffer at a time, so it holds at most one buffer beyond the one being read.
 * Like any InputStream it is meant for one reading thread; {@link #close()} may come from any thread. That
 * thread must not be the event loop that delivers the body, which would wait for itself: a read there that
 * would wait fails with an IOException instead.
 */
final class BlockingBody extends InputStream implements Flow.Subscriber<ByteBuffer> {
  private static final Object END = new Object();

  private final ForwardResponse response;
  private final EventExecutor deliveredOn;
  private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
  private volatile Flow.@Nullable Subscription subscription;
  private @Nullable ByteBuffer current;
  private @Nullable Object terminal;

  /**
   * @param response closed by {@link #close()}
   * @param deliveredOn the event loop that calls this subscriber
   */
  BlockingBody(ForwardResponse response, EventExecutor deliveredOn) {
    this.response = response;
    this.deliveredOn = deliveredOn;
  }

  @Override
  public void onSubscribe(Flow.Subscription s) {
    subscription = s;
    s.request(1);
  }

  @Override
  public void onNext(ByteBuffer item) {
    queue.add(item);
  }

  @Override
  public void onError(Throwable throwable) {
    queue.add(throwable);
  }

  @Override
  public void onComplete() {
    queue.add(END);
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    java.util.Objects.checkFromIndexSize(off, len, b.length);
    if (len == 0) {
      return 0;
    }
    ByteBuffer buffer = next();
    if (buffer == null) {
      return -1;
    }
    int n = Math.min(len, buffer.remaining());
    buffer.get(b, off, n);
    return n;
  }

  @Override
  public int available() {
    ByteBuffer c = current;
    return c == null ? 0 : c.remaining();
  }

  /** The buffer to read from, waiting for one; null at the end of the body. */
  private @Nullable ByteBuffer next() throws IOException {
    ByteBuffer c = current;
    while (c == null || !c.hasRemaining()) {
      if (terminal != null) {
        return rethrow(terminal);
      }
      Object item = queue.poll();
      try {
        if (item == null) {
          if (deliveredOn.inEventLoop()) {
            throw new IOException(
                "the body of this HTTP/2 response is delivered on the event loop that reads it, which would wait for"
                    + " itself forever: read it on another thread, or through bodyPublisher()");
          }
          item = queue.take();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while waiting for the response body");
      }
      if (item instanceof ByteBuffer buffer) {
        c = buffer;
        current = c;
        Flow.Subscription s = subscription;
        if (s != null) {
          s.request(1); // the next frame is read while this one is consumed
        }
      } else {
        terminal = item;
        current = null;
        return rethrow(item);
      }
    }
    return c;
  }

  private static @Nullable ByteBuffer rethrow(Object terminal) throws IOException {
    if (terminal instanceof Throwable t) {
      throw new IOException(t.getMessage(), t);
    }
    return null;
  }

  @Override
  public void close() {
    response.close();
  }
}
