package dev.jitaccess.k8s.internal;

import dev.jitaccess.api.ForwardResponse;
import dev.jitaccess.api.UpgradedConnection;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.FutureListener;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Flow;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP/2 stream: the handler of its child channel (which does not read by itself), the response once
 * the head arrived, and the subscription of its body.
 *
 * <p>A DATA frame is read from the stream only while the subscriber has outstanding demand, so Netty sends
 * WINDOW_UPDATE only for bytes handed on and a slow subscriber holds kube-apiserver back through flow control.
 * All state but {@link #mode} and {@link #closed} belongs to the stream's event loop; every signal to the
 * subscriber is sent there, never concurrently.
 */
final class Http2Exchange extends ChannelInboundHandlerAdapter
    implements ForwardResponse, Flow.Publisher<ByteBuffer>, Flow.Subscription {
  private static final Logger log = LoggerFactory.getLogger(Http2Exchange.class);
  private static final int UNUSED = 0;
  private static final int PUBLISHER = 1;
  private static final int STREAM = 2;

  private final Http2Call call;
  private final Http2Pool pool;
  private final Http2Connection connection;
  private final int attempt;
  private final EventLoop loop;
  private final AtomicInteger mode = new AtomicInteger(UNUSED);
  private final AtomicBoolean closed = new AtomicBoolean();
  private @Nullable BlockingBody blocking;

  // event loop state
  private @Nullable Http2StreamChannel channel;
  private boolean headDone;
  private boolean abandoned; // failed or retried before the head
  private int status;
  private Map<String, List<String>> headers = Map.of();
  private final ArrayDeque<ByteBuffer> pending = new ArrayDeque<>();
  private long demand;
  private boolean endOfBody;
  private boolean readPending;
  private boolean draining;
  private boolean terminated;
  private @Nullable Throwable failure;
  private Flow.@Nullable Subscriber<? super ByteBuffer> subscriber;
  private @Nullable ScheduledFuture<?> timer;

  Http2Exchange(Http2Call call, Http2Pool pool, Http2Connection connection, int attempt) {
    this.call = call;
    this.pool = pool;
    this.connection = connection;
    this.attempt = attempt;
    this.loop = connection.channel().eventLoop();
  }

  /** Opens the stream and sends the request head; never blocks. */
  void open() {
    new Http2StreamChannelBootstrap(connection.channel())
        .option(ChannelOption.AUTO_READ, false)
        .handler(this)
        .open()
        .addListener((FutureListener<Http2StreamChannel>) this::opened);
  }

  private void opened(Future<Http2StreamChannel> future) {
    if (!future.isSuccess()) {
      pool.release(connection);
      abandoned = true;
      call.fail(future.cause());
      return;
    }
    Http2StreamChannel ch = future.getNow();
    channel = ch;
    connection.exchanges.add(this);
    ch.closeFuture()
        .addListener(
            f -> {
              connection.exchanges.remove(this);
              pool.release(connection);
            });
    ch.writeAndFlush(new DefaultHttp2HeadersFrame(call.headers(), true))
        .addListener(
            f -> {
              if (!f.isSuccess()) {
                writeFailed(f.cause());
              }
            });
    maybeRead();
  }

  private void writeFailed(Throwable cause) {
    if (headDone || abandoned) {
      return;
    }
    Http2Exception h2 = http2Exception(cause);
    if (h2 != null && h2.error() == Http2Error.REFUSED_STREAM) {
      // the local endpoint refused: the slot of a stream we reset was not free yet
      retry(new Http2ResetException(Http2Error.REFUSED_STREAM.code(), "the stream was refused locally"));
    } else {
      failHead(cause);
    }
  }

  // Inbound frames.

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    readPending = false;
    cancelTimer();
    try {
      if (abandoned || terminated) {
        return;
      }
      if (msg instanceof Http2HeadersFrame frame) {
        onHeaders(frame);
      } else if (msg instanceof Http2DataFrame frame) {
        ByteBuf content = frame.content();
        if (content.isReadable()) {
          byte[] bytes = new byte[content.readableBytes()];
          content.getBytes(content.readerIndex(), bytes);
          pending.add(ByteBuffer.wrap(bytes));
        }
        endOfBody |= frame.isEndStream();
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
    drain();
  }

  private void onHeaders(Http2HeadersFrame frame) {
    if (headDone) {
      endOfBody |= frame.isEndStream(); // trailers
      return;
    }
    int code;
    try {
      code = Integer.parseInt(String.valueOf(frame.headers().status()));
    } catch (NumberFormatException e) {
      failHead(new Http2Exception(Http2Error.PROTOCOL_ERROR, "no valid :status in the response"));
      return;
    }
    if (code >= 100 && code < 200 && !frame.isEndStream()) {
      return; // an interim response; the final one follows
    }
    status = code;
    headers = headersOf(frame.headers());
    endOfBody = frame.isEndStream();
    headDone = true;
    if (!call.result().complete(this)) {
      close(); // the caller gave up
    }
  }

  private static Map<String, List<String>> headersOf(Http2Headers h2) {
    List<Map.Entry<String, String>> list = new ArrayList<>(h2.size());
    for (Map.Entry<CharSequence, CharSequence> header : h2) {
      String name = header.getKey().toString();
      if (!name.startsWith(":")) {
        list.add(Map.entry(name, header.getValue().toString()));
      }
    }
    return HopByHop.filterResponse(list, false);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    try {
      if (evt instanceof Http2ResetFrame reset) {
        streamFailed(new Http2ResetException(reset.errorCode(), "kube-apiserver reset the stream"));
      } else if (evt instanceof Http2GoAwayFrame) {
        // sent to streams above the last one the server will process: this one was not processed
        streamFailed(new Http2ResetException(Http2Error.REFUSED_STREAM.code(), "kube-apiserver went away"));
      }
    } finally {
      ReferenceCountUtil.release(evt);
    }
  }

  private void streamFailed(Http2ResetException cause) {
    if (!headDone) {
      if (cause.refused()) {
        retry(cause);
      } else {
        failHead(cause);
      }
    } else {
      fail(call.broken(cause));
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    cancelTimer();
    if (!headDone) {
      failHead(new ClosedChannelException());
    } else if (!endOfBody) {
      fail(call.broken(new ClosedChannelException()));
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (!headDone) {
      failHead(cause);
    } else {
      fail(call.broken(cause));
    }
  }

  /**
   * The connection's event loop ended without closing this stream (see {@link Http2Connection#abandon()}): fails
   * the call or the body on the calling thread, the loop being gone.
   */
  void connectionLost() {
    if (!headDone) {
      failHead(new ClosedChannelException());
    } else if (!endOfBody) {
      fail(call.broken(new ClosedChannelException()));
    }
  }

  // Outcomes before the head.

  private void retry(Http2ResetException cause) {
    if (abandoned) {
      return;
    }
    abandoned = true;
    closeChannel();
    call.refused(attempt, cause);
  }

  private void failHead(Throwable cause) {
    if (abandoned || headDone) {
      return;
    }
    abandoned = true;
    cancelTimer();
    closeChannel();
    call.fail(cause);
  }

  // The response.

  @Override
  public int status() {
    return status;
  }

  @Override
  public Map<String, List<String>> headers() {
    return headers;
  }

  @Override
  public synchronized InputStream body() {
    BlockingBody b = blocking;
    if (b != null) {
      return b;
    }
    if (!mode.compareAndSet(UNUSED, STREAM)) {
      throw new IllegalStateException("the body is already read through bodyPublisher(); use one or the other");
    }
    b = new BlockingBody(this, loop);
    blocking = b;
    start(b);
    return b;
  }

  @Override
  public Optional<Flow.Publisher<ByteBuffer>> bodyPublisher() {
    return Optional.of(this);
  }

  @Override
  public Optional<UpgradedConnection> upgraded() {
    return Optional.empty();
  }

  @Override
  public void subscribe(Flow.Subscriber<? super ByteBuffer> s) {
    java.util.Objects.requireNonNull(s, "subscriber");
    if (!mode.compareAndSet(UNUSED, PUBLISHER)) {
      s.onSubscribe(NoSubscription.INSTANCE);
      s.onError(
          new IllegalStateException(
              mode.get() == STREAM
                  ? "the body is already read through body(); use one or the other"
                  : "the body publisher admits one subscriber only"));
      return;
    }
    start(s);
  }

  private void start(Flow.Subscriber<? super ByteBuffer> s) {
    onLoop(
        () -> {
          subscriber = s;
          try {
            s.onSubscribe(this);
          } catch (RuntimeException e) {
            log.warn("A subscriber of a forwarded response body threw in onSubscribe; closing the response", e);
            terminated = true;
            close();
            return;
          }
          drain();
        },
        () -> {
          s.onSubscribe(NoSubscription.INSTANCE);
          s.onError(call.closed());
        });
  }

  @Override
  public void request(long n) {
    onLoop(
        () -> {
          if (terminated) {
            return;
          }
          if (n <= 0) {
            fail(new IllegalArgumentException("request must be positive but was " + n + " (Reactive Streams §3.9)"));
            return;
          }
          demand = demand + n < 0 ? Long.MAX_VALUE : demand + n;
          drain();
        },
        () -> {});
  }

  @Override
  public void cancel() {
    onLoop(() -> terminated = true, () -> {});
    close();
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    onLoop(
        () -> {
          pending.clear();
          cancelTimer();
          if (failure == null && !terminated) {
            // Only a body still running needs the error (with its stack trace): closing a response whose
            // body already ended, the usual case, costs nothing.
            failure = call.closed();
          }
          drain();
          closeChannel();
        },
        () -> {});
  }

  /** Fails the body: the subscriber gets onError (now, or when it subscribes); the stream is reset. */
  private void fail(Throwable cause) {
    if (failure == null) {
      failure = cause;
    }
    pending.clear();
    cancelTimer();
    drain();
    closeChannel();
  }

  // Delivery, on the event loop.

  private void drain() {
    if (draining) {
      return;
    }
    draining = true;
    try {
      Flow.Subscriber<? super ByteBuffer> s = subscriber;
      while (s != null && !terminated) {
        Throwable f = failure;
        if (f != null) {
          terminated = true;
          pending.clear();
          signal(() -> s.onError(f));
        } else if (demand > 0 && !pending.isEmpty()) {
          demand--;
          ByteBuffer next = pending.poll();
          signal(() -> s.onNext(next));
        } else if (pending.isEmpty() && endOfBody) {
          terminated = true;
          closeChannel();
          signal(s::onComplete);
        } else {
          break;
        }
      }
    } finally {
      draining = false;
    }
    maybeRead();
  }

  private void signal(Runnable signal) {
    try {
      signal.run();
    } catch (RuntimeException e) {
      log.warn("A subscriber of a forwarded response body threw; closing the response", e);
      terminated = true;
      close();
    }
  }

  /** Reads the next frame when the head is awaited, or when the subscriber wants more than is buffered. */
  private void maybeRead() {
    Http2StreamChannel ch = channel;
    if (ch == null || readPending || abandoned || terminated || failure != null || endOfBody || !ch.isActive()) {
      return;
    }
    if (headDone && (subscriber == null || demand == 0 || !pending.isEmpty())) {
      return;
    }
    readPending = true;
    int timeout = call.readTimeoutMillis();
    if (timeout > 0) {
      timer = loop.schedule(this::timedOut, timeout, TimeUnit.MILLISECONDS);
    }
    ch.read();
  }

  private void timedOut() {
    timer = null;
    SocketTimeoutException e =
        new SocketTimeoutException("nothing was read for " + call.readTimeoutMillis() + " ms");
    if (!headDone) {
      failHead(e);
    } else {
      fail(call.broken(e));
    }
  }

  private void cancelTimer() {
    ScheduledFuture<?> t = timer;
    if (t != null) {
      timer = null;
      t.cancel(false);
    }
  }

  private void closeChannel() {
    Http2StreamChannel ch = channel;
    if (ch != null && ch.isOpen()) {
      ch.close(); // sends RST_STREAM CANCEL unless the stream ended
    }
  }

  private void onLoop(Runnable task, Runnable ifShutDown) {
    if (loop.inEventLoop()) {
      task.run();
      return;
    }
    try {
      loop.execute(task);
    } catch (RejectedExecutionException e) {
      ifShutDown.run();
    }
  }

  private static @Nullable Http2Exception http2Exception(@Nullable Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof Http2Exception e) {
        return e;
      }
    }
    return null;
  }

  /** The subscription of a refused subscriber. */
  private enum NoSubscription implements Flow.Subscription {
    INSTANCE;

    @Override
    public void request(long n) {}

    @Override
    public void cancel() {}
  }
}
