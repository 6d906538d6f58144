package dev.jitaccess.relay.internal;

import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A bounded pipe from a stream's DATA frames (written on the event loop) to the forwarder (reading on a
 * worker thread). {@link #offer} reports when the pipe is full so the stream stops reading (and so stops
 * granting HTTP/2 window to the sender); {@code resume} runs once the reader has drained it to half.
 *
 * <p>Thread-safe for one writer and one reader.
 */
final class AgentRequestBody extends InputStream {
  private final int capacity;
  private final Runnable resume;
  private final ArrayDeque<byte[]> chunks = new ArrayDeque<>();
  private int queued;
  private int headOffset;
  private boolean finished;
  private boolean paused;
  private @Nullable IOException failure;

  /**
   * Creates a pipe.
   *
   * @param capacity bytes buffered before the writer is asked to pause
   * @param resume called from the reader's thread when a paused writer may go on
   */
  AgentRequestBody(int capacity, Runnable resume) {
    this.capacity = capacity;
    this.resume = Objects.requireNonNull(resume, "resume");
  }

  /**
   * Adds the readable bytes of a buffer (copied; the caller keeps ownership).
   *
   * @param data the bytes
   * @return false when the pipe is now full and the writer should pause
   */
  synchronized boolean offer(ByteBuf data) {
    if (finished || failure != null || !data.isReadable()) {
      return !paused;
    }
    byte[] copy = new byte[data.readableBytes()];
    data.getBytes(data.readerIndex(), copy);
    chunks.addLast(copy);
    queued += copy.length;
    notifyAll();
    if (queued >= capacity) {
      paused = true;
    }
    return !paused;
  }

  /** Marks the end of the body (the sender ended the stream). */
  synchronized void finish() {
    finished = true;
    notifyAll();
  }

  /**
   * Fails pending and future reads (the stream was reset or the tunnel dropped).
   *
   * @param cause what to throw to the reader
   */
  synchronized void fail(IOException cause) {
    if (!finished && failure == null) {
      failure = cause;
    }
    chunks.clear();
    queued = 0;
    notifyAll();
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n == -1 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] buffer, int offset, int length) throws IOException {
    Objects.checkFromIndexSize(offset, length, buffer.length);
    if (length == 0) {
      return 0;
    }
    int n;
    boolean wake = false;
    synchronized (this) {
      while (chunks.isEmpty() && !finished && failure == null) {
        try {
          wait();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while waiting for the request body", e);
        }
      }
      if (failure != null) {
        throw new IOException(failure.getMessage(), failure);
      }
      if (chunks.isEmpty()) {
        return -1;
      }
      byte[] head = chunks.peekFirst();
      n = Math.min(length, head.length - headOffset);
      System.arraycopy(head, headOffset, buffer, offset, n);
      headOffset += n;
      if (headOffset == head.length) {
        chunks.removeFirst();
        headOffset = 0;
      }
      queued -= n;
      if (paused && queued <= capacity / 2) {
        paused = false;
        wake = true;
      }
    }
    if (wake) {
      resume.run();
    }
    return n;
  }

  @Override
  public synchronized int available() {
    return queued;
  }

  @Override
  public void close() {
    fail(new IOException("request body closed"));
  }
}
