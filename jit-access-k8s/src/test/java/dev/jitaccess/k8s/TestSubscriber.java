package dev.jitaccess.k8s;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicInteger;

/** Collects a response body; requests nothing by itself beyond {@code initial}. */
final class TestSubscriber implements Flow.Subscriber<ByteBuffer> {
  private final long initial;
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  final CompletableFuture<Flow.Subscription> subscribed = new CompletableFuture<>();
  /** Completes with the body on onComplete, fails with the error of onError. */
  final CompletableFuture<byte[]> done = new CompletableFuture<>();
  final AtomicInteger buffers = new AtomicInteger();
  final CompletableFuture<String> first = new CompletableFuture<>();
  volatile String threadName = "";

  TestSubscriber(long initial) {
    this.initial = initial;
  }

  @Override
  public void onSubscribe(Flow.Subscription subscription) {
    subscribed.complete(subscription);
    if (initial > 0) {
      subscription.request(initial);
    }
  }

  @Override
  public synchronized void onNext(ByteBuffer item) {
    threadName = Thread.currentThread().getName();
    byte[] chunk = new byte[item.remaining()];
    item.get(chunk);
    bytes.write(chunk, 0, chunk.length);
    buffers.incrementAndGet();
    first.complete(new String(chunk, StandardCharsets.UTF_8));
  }

  @Override
  public void onError(Throwable throwable) {
    done.completeExceptionally(throwable);
  }

  @Override
  public synchronized void onComplete() {
    done.complete(bytes.toByteArray());
  }

  synchronized int size() {
    return bytes.size();
  }

  void request(long n) {
    subscribed.join().request(n);
  }
}
