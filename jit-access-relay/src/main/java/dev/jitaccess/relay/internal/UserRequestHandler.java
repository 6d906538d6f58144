package dev.jitaccess.relay.internal;

import dev.jitaccess.api.AccessDeniedException;
import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.api.AuthenticationException;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The user side of one HTTP/1.1 connection or one HTTP/2 stream (after {@code Http2StreamFrameToHttpObjectCodec}):
 * checks the request, authorizes it (at once for a warm subject, else off the event loop), opens a tunnel stream to the cluster's agent, streams the
 * body there with backpressure and the answer back, and audits the call.
 *
 * <p>All state is confined to the user channel's event loop; events from the tunnel stream are moved there.
 */
public final class UserRequestHandler extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(UserRequestHandler.class);

  /** Inbound messages held while a request is being authorized or answered (pipelining); more closes. */
  private static final int MAX_PENDING = 64;

  /**
   * Response bytes handed from the tunnel stream's event loop to the user channel's but not yet written there; beyond
   * this the tunnel stream stops reading (so its HTTP/2 window stops refilling) until the user side catches up.
   */
  private static final long MAX_HANDED_OFF = 64 * 1024;

  /** How long a refused HTTP/1.1 connection keeps draining input before it is closed. */
  private static final long LINGER_MILLIS = 1000;

  private enum State {
    AWAIT_HEAD,
    AUTHORIZING,
    FORWARDING,
    CLOSING
  }

  private final UserSideConfig config;
  private final boolean http2;
  private final ArrayDeque<Object> pending = new ArrayDeque<>();
  private final UserResponseWriter responses;
  /** Written by the tunnel stream's event loop, read by both. */
  private final java.util.concurrent.atomic.AtomicLong handedOff = new java.util.concurrent.atomic.AtomicLong();
  private @Nullable ChannelHandlerContext ctx;
  private State state = State.AWAIT_HEAD;
  private @Nullable UserExchange ex;

  /**
   * Creates the handler for one connection (HTTP/1.1) or one stream (HTTP/2).
   *
   * @param config the shared configuration
   * @param http2 whether the channel is an HTTP/2 stream
   */
  public UserRequestHandler(UserSideConfig config, boolean http2) {
    this.config = config;
    this.http2 = http2;
    this.responses = new UserResponseWriter(http2);
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    UserExchange e = ex;
    if (state == State.CLOSING) {
      ReferenceCountUtil.release(msg);
    } else if (state == State.AWAIT_HEAD) {
      if (msg instanceof HttpRequest request) {
        onHead(request);
      } else {
        ReferenceCountUtil.release(msg); // the empty end of a body-less request, or a refused body
      }
    } else if (state == State.FORWARDING && e != null && !e.requestDone && msg instanceof HttpContent c) {
      forwardContent(e, c);
    } else {
      pending.add(msg);
      if (pending.size() > MAX_PENDING) {
        closeAll("too many pipelined messages");
      }
    }
  }

  private void onHead(HttpRequest request) {
    ChannelHandlerContext c = ctx();
    UserExchange e =
        new UserExchange(
            request.method(), request.uri(), config.engine().clock().instant(), !http2 && HttpUtil.isKeepAlive(request));
    ex = e;
    String token;
    try {
      checkDecoding(request);
      if (!http2) {
        HeaderPolicy.checkFraming(request.headers());
      }
      PathPolicy.Route route = PathPolicy.route(request.uri());
      e.cluster = route.cluster();
      e.path = route.target();
      e.plainTextErrors = StatusResponses.readAsText(request.method().name(), route.path());
      String impersonation = HeaderPolicy.impersonationHeader(request.headers());
      if (impersonation != null) {
        audit(e, AuditEvent.Type.DENIED, "impersonation headers are not allowed: " + UserExchange.sanitize(impersonation));
        throw new HttpStatusException(HttpResponseStatus.BAD_REQUEST, "impersonation headers are not allowed");
      }
      if (HeaderPolicy.hasWebSocketBearer(request.headers())) {
        audit(e, AuditEvent.Type.DENIED, "a bearer token in Sec-WebSocket-Protocol");
        throw new HttpStatusException(
            HttpResponseStatus.BAD_REQUEST,
            "a bearer token in Sec-WebSocket-Protocol is not accepted; send it in the Authorization header");
      }
      token = HeaderPolicy.bearerToken(request.headers());
      if (HttpUtil.getContentLength(request, -1L) > config.maxBodySize()) {
        throw tooLarge();
      }
      e.upgrade = http2 ? null : UserUpgrade.requestedProtocol(request.headers());
      if (e.upgrade != null) {
        e.keepAlive = false;
        e.websocketKey = request.headers().get(io.netty.handler.codec.http.HttpHeaderNames.SEC_WEBSOCKET_KEY);
      }
      e.hasBody = hasBody(request);
      Http2Headers headers = forwardHeaders(request, route, e);
      if (request instanceof LastHttpContent last && e.hasBody) {
        pending.addFirst(new DefaultLastHttpContent(last.content().retain()));
      }
      state = State.AUTHORIZING;
      c.channel().config().setAutoRead(false);
      authorize(e, token, headers);
    } catch (HttpStatusException failure) {
      reject(failure.status(), failure.getMessage());
    } finally {
      ReferenceCountUtil.release(request);
    }
  }

  private void checkDecoding(HttpRequest request) throws HttpStatusException {
    if (request.decoderResult().isSuccess()) {
      return;
    }
    Throwable cause = request.decoderResult().cause();
    if (cause instanceof TooLongHttpHeaderException) {
      throw new HttpStatusException(
          HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
          "the request headers are larger than " + config.maxHeaderSize() + " bytes");
    }
    if (cause instanceof TooLongHttpLineException) {
      throw new HttpStatusException(HttpResponseStatus.REQUEST_URI_TOO_LONG, "the request line is too long");
    }
    log.debug("Refused a malformed request: {}", cause.getClass().getSimpleName());
    throw new HttpStatusException(
        HttpResponseStatus.BAD_REQUEST,
        "malformed request: ambiguous framing (Content-Length, Transfer-Encoding), folded or invalid headers");
  }

  private boolean hasBody(HttpRequest request) {
    if (request instanceof LastHttpContent last) {
      return last.content().isReadable();
    }
    return http2 || HttpUtil.isContentLengthSet(request) || HttpUtil.isTransferEncodingChunked(request);
  }

  private Http2Headers forwardHeaders(HttpRequest request, PathPolicy.Route route, UserExchange e) {
    Map<String, String> relay = new LinkedHashMap<>();
    relay.put("x-forwarded-for", clientIp());
    relay.put(TunnelProtocol.REQUEST_ID_HEADER, e.requestId);
    if (e.upgrade != null) {
      relay.put(HeaderPolicy.UPGRADE_HEADER, e.upgrade);
    }
    return HeaderPolicy.forwardHeaders(request.method(), request.headers(), route, relay);
  }

  private void authorize(UserExchange e, String token, Http2Headers headers) {
    ChannelHandlerContext c = ctx();
    String cluster = java.util.Objects.requireNonNull(e.cluster);
    AccessEngine.Authorized warm = config.engine().authorizeIfWarm(token, cluster);
    if (warm != null) {
      onAuthorized(e, warm, headers); // a warm subject: no hand-off to the authorization pool and back
      return;
    }
    AtomicReference<ScheduledFuture<?>> deadline = new AtomicReference<>();
    FutureTask<Void> call =
        new FutureTask<>(
            () -> {
              try {
                AccessEngine.Authorized authorized = config.engine().authorize(token, cluster);
                c.executor().execute(() -> onAuthorized(e, authorized, headers));
              } catch (AuthenticationException failure) {
                c.executor().execute(() -> rejectIfCurrent(e, HttpResponseStatus.UNAUTHORIZED, "Unauthorized"));
              } catch (AccessDeniedException denied) {
                c.executor().execute(() -> rejectIfCurrent(e, HttpResponseStatus.FORBIDDEN, denied.reason()));
              } catch (RuntimeException failure) {
                log.warn("Authorization of request {} failed; refusing it", e.requestId, failure);
                c.executor().execute(() -> rejectIfCurrent(e, HttpResponseStatus.FORBIDDEN, "access denied: the relay could not authorize the request"));
              }
            },
            null) {
          @Override
          protected void done() {
            ScheduledFuture<?> timer = deadline.get();
            if (timer != null) {
              timer.cancel(false);
            }
          }
        };
    // A provider that hangs must not hold the request, nor a thread of the pool every user's first request
    // shares, for longer than the timeout: the request is answered 503 and the call interrupted.
    Duration timeout = config.authorizationTimeout();
    deadline.set(
        c.executor().schedule(() -> authorizationTimedOut(e, call, timeout), timeout.toNanos(), TimeUnit.NANOSECONDS));
    try {
      config.executor().execute(call);
    } catch (RejectedExecutionException overloaded) {
      call.cancel(false); // cancels the deadline too
      log.debug("Authorization queue full; refusing request {} with 429", e.requestId);
      reject(HttpResponseStatus.TOO_MANY_REQUESTS, "the relay is overloaded; try again later", UserSideConfig.RETRY_AFTER_SECONDS);
    }
  }

  private void authorizationTimedOut(UserExchange e, FutureTask<Void> call, Duration timeout) {
    if (call.cancel(true)) { // still queued or running: it will not answer now
      log.warn("Authorization of request {} took longer than {}; answering 503", e.requestId, timeout);
      rejectIfCurrent(
          e,
          HttpResponseStatus.SERVICE_UNAVAILABLE,
          "the relay could not authorize the request within " + timeout.toMillis() + " ms; try again later",
          UserSideConfig.RETRY_AFTER_SECONDS);
    }
  }

  private void rejectIfCurrent(UserExchange e, HttpResponseStatus status, String message) {
    rejectIfCurrent(e, status, message, 0);
  }

  private void rejectIfCurrent(UserExchange e, HttpResponseStatus status, String message, int retryAfterSeconds) {
    if (ex == e && state == State.AUTHORIZING) {
      reject(status, message, retryAfterSeconds);
    }
  }

  private void onAuthorized(UserExchange e, AccessEngine.Authorized authorized, Http2Headers headers) {
    if (ex != e || state != State.AUTHORIZING || !ctx().channel().isActive()) {
      return;
    }
    e.grant = authorized.grant();
    String cluster = java.util.Objects.requireNonNull(e.cluster);
    String subject = authorized.grant().subject().id();
    if (!config.subjectLimiter().tryAcquire(subject)) {
      reject(
          HttpResponseStatus.TOO_MANY_REQUESTS,
          "too many concurrent requests: " + subject + " already has " + config.subjectLimiter().limit()
              + " open; close some (watches, exec sessions) or try again later",
          UserSideConfig.RETRY_AFTER_SECONDS);
      return;
    }
    e.limitSlot = subject;
    if (!config.registry().isConnected(cluster)) {
      reject(HttpResponseStatus.SERVICE_UNAVAILABLE, agentNotConnected(cluster));
      return;
    }
    headers.set(TunnelProtocol.GRANT_HEADER, authorized.signedGrant());
    Future<Http2StreamChannel> opened = config.registry().openStream(cluster, new UserTunnelStreamHandler(this));
    // An upgrade keeps the stream open for the bytes that follow the switch.
    boolean endStream = !e.hasBody && e.upgrade == null;
    opened.addListener(f -> {
      if (opened.isSuccess()) {
        // Sent from the tunnel's loop, where the stream was just opened, instead of after a detour through the
        // user's loop. Frames of the answer are handed to the user's loop after the task queued below, so it sees
        // the exchange's stream first; should the exchange have ended meanwhile, that task resets the stream.
        opened.getNow().writeAndFlush(new DefaultHttp2HeadersFrame(headers, endStream));
      }
      onLoop(() -> onStreamOpened(e, opened));
    });
  }

  private void onStreamOpened(UserExchange e, Future<Http2StreamChannel> opened) {
    if (!opened.isSuccess()) {
      if (opened.cause() instanceof TunnelsFullException full) {
        rejectIfCurrent(e, HttpResponseStatus.SERVICE_UNAVAILABLE, full.getMessage(), UserSideConfig.RETRY_AFTER_SECONDS);
        return;
      }
      rejectIfCurrent(e, HttpResponseStatus.SERVICE_UNAVAILABLE, agentNotConnected(java.util.Objects.requireNonNull(e.cluster)));
      return;
    }
    Http2StreamChannel stream = opened.getNow();
    if (ex != e || state != State.AUTHORIZING) {
      stream.close();
      return;
    }
    e.stream = stream;
    e.requestDone = !e.hasBody;
    state = State.FORWARDING;
    drainPendingBody(e);
    updateUserAutoRead();
  }

  private static String agentNotConnected(String cluster) {
    return "the agent of cluster " + cluster + " is not connected to the relay; try again later";
  }

  private void drainPendingBody(UserExchange e) {
    while (state == State.FORWARDING && ex == e && !e.requestDone && pending.peek() instanceof HttpContent) {
      forwardContent(e, (HttpContent) pending.poll());
    }
  }

  private void forwardContent(UserExchange e, HttpContent content) {
    Http2StreamChannel stream = java.util.Objects.requireNonNull(e.stream);
    e.bytesIn += content.content().readableBytes();
    if (e.bytesIn > config.maxBodySize()) {
      content.release();
      HttpStatusException failure = tooLarge();
      reject(failure.status(), failure.getMessage());
      return;
    }
    boolean last = content instanceof LastHttpContent;
    stream.writeAndFlush(new DefaultHttp2DataFrame(content.content(), last));
    if (last) {
      e.requestDone = true;
      if (e.responseDone) {
        finish(e);
      }
    }
    updateUserAutoRead();
  }

  private HttpStatusException tooLarge() {
    return new HttpStatusException(
        HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
        "the request body is larger than " + config.maxBodySize() + " bytes");
  }

  void onTunnelMessage(Channel stream, Object msg) {
    // Decided here, on the tunnel stream's loop and before the hand-off: were it decided only on the user's loop,
    // the tunnel could read (and refill its window) far ahead of a busy user loop, holding megabytes in between.
    // The hand-off task below re-evaluates after this, so a pause is always followed by a chance to resume.
    long bytes = msg instanceof Http2DataFrame data ? data.content().readableBytes() : 0;
    if (handedOff.addAndGet(bytes) > MAX_HANDED_OFF || !ctx().channel().isWritable()) {
      stream.config().setAutoRead(false);
    }
    onLoop(() -> {
      handedOff.addAndGet(-bytes);
      UserExchange e = ex;
      if (e != null && e.stream == stream && e.status == 101 && msg instanceof Http2DataFrame data) {
        ctx().writeAndFlush(data.content()); // bytes that beat the switch to the pipe handlers
        return;
      }
      if (e == null || e.stream != stream || state == State.CLOSING) {
        ReferenceCountUtil.release(msg);
        return;
      }
      if (e.upgrade != null && !e.responseStarted && msg instanceof Http2HeadersFrame frame
          && UserUpgrade.isUpgraded(e, frame.headers())) {
        e.status = 101;
        e.responseStarted = true;
        e.responseDone = true;
        state = State.CLOSING;
        releasePending();
        UserUpgrade.pipe(
            ctx(), stream, e, frame.headers(),
            () -> onLoop(() -> {
              releaseSlot(e);
              auditRequest(e, "upgraded");
            }));
        return;
      }
      if (responses.write(ctx(), e, msg)) {
        e.responseDone = true;
        finish(e);
      }
      updateTunnelAutoRead(e);
    });
  }

  void onTunnelWritabilityChanged(Channel stream) {
    onLoop(() -> {
      if (ex != null && ex.stream == stream) {
        updateUserAutoRead();
      }
    });
  }

  void onTunnelClosed(Channel stream) {
    onLoop(() -> {
      UserExchange e = ex;
      if (e == null || e.stream != stream || e.responseDone || state == State.CLOSING) {
        return;
      }
      if (!e.responseStarted) {
        reject(HttpResponseStatus.BAD_GATEWAY, "the agent of cluster " + e.cluster + " ended the request without an answer");
      } else {
        closeAll("the tunnel stream ended before the response was complete");
      }
    });
  }

  private void finish(UserExchange e) {
    releaseSlot(e);
    auditRequest(e, null);
    Channel user = ctx().channel();
    if (http2) {
      state = State.CLOSING;
      closeStream(e); // a no-op when both sides ended; resets the stream if the request body was cut short
    } else if (e.keepAlive && e.requestDone) {
      ex = null;
      state = State.AWAIT_HEAD;
      HttpHeadTimeoutHandler timeout = ctx().pipeline().get(HttpHeadTimeoutHandler.class);
      if (timeout != null) {
        timeout.arm();
      }
      user.config().setAutoRead(true);
      while (state == State.AWAIT_HEAD && !pending.isEmpty()) {
        channelRead(ctx(), pending.poll());
      }
    } else {
      state = State.CLOSING;
      closeStream(e);
      user.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
  }

  private void reject(HttpResponseStatus status, String message) {
    reject(status, message, 0);
  }

  private void reject(HttpResponseStatus status, String message, int retryAfterSeconds) {
    UserExchange e = ex;
    ChannelHandlerContext c = ctx();
    state = State.CLOSING;
    releasePending();
    if (e != null) {
      releaseSlot(e);
    }
    if (e != null && e.responseStarted) {
      closeAll(message);
      return;
    }
    FullHttpResponse response =
        StatusResponses.status(c.alloc(), status, message, e != null && e.plainTextErrors, retryAfterSeconds);
    if (!http2) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    }
    if (e != null) {
      e.status = status.code();
      e.bytesOut = response.content().readableBytes();
      e.responseStarted = true;
      e.responseDone = true;
      auditRequest(e, message);
      closeStream(e);
    }
    if (http2) {
      c.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    } else {
      c.writeAndFlush(response).addListener(f -> lingeringClose(c));
    }
  }

  /**
   * Ends the TLS session after a refusal but keeps reading (and discarding) for a moment, so a client still
   * sending a large refused request sees the answer instead of a connection reset.
   */
  private static void lingeringClose(ChannelHandlerContext c) {
    SslHandler ssl = c.pipeline().get(SslHandler.class);
    if (ssl == null || !c.channel().isActive()) {
      c.close();
      return;
    }
    ssl.closeOutbound();
    c.channel().config().setAutoRead(true);
    c.executor().schedule(() -> c.close(), LINGER_MILLIS, TimeUnit.MILLISECONDS);
  }

  private void closeAll(String why) {
    UserExchange e = ex;
    log.debug("Closing user channel {}: {}", ctx().channel().id(), why);
    state = State.CLOSING;
    releasePending();
    if (e != null) {
      releaseSlot(e);
      auditRequest(e, why);
      closeStream(e);
    }
    ctx().close();
  }

  private void releaseSlot(UserExchange e) {
    String subject = e.limitSlot;
    if (subject != null) {
      e.limitSlot = null;
      config.subjectLimiter().release(subject);
    }
  }

  private static void closeStream(UserExchange e) {
    Http2StreamChannel stream = e.stream;
    if (stream != null) {
      stream.close();
    }
  }

  private void updateUserAutoRead() {
    UserExchange e = ex;
    if (state != State.FORWARDING || e == null || e.stream == null) {
      return;
    }
    StreamReads.autoRead(ctx().channel(), e.requestDone || e.stream.isWritable());
  }

  private void updateTunnelAutoRead(UserExchange e) {
    Http2StreamChannel stream = e.stream;
    if (stream != null && stream.isActive()) {
      StreamReads.autoRead(stream, ctx().channel().isWritable() && handedOff.get() <= MAX_HANDED_OFF);
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    UserExchange e = ex;
    if (e != null && state == State.FORWARDING) {
      updateTunnelAutoRead(e);
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof IdleStateEvent) {
      closeAll("idle timeout");
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    UserExchange e = ex;
    if (e != null) {
      releaseSlot(e); // also a client's RST_STREAM on HTTP/2, which closes the stream channel
    }
    if (e != null && state != State.CLOSING) {
      auditRequest(e, "the client closed the connection");
      closeStream(e);
    }
    state = State.CLOSING;
    releasePending();
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("User channel {} failed: {}", ctx.channel().id(), cause.toString());
    closeAll("channel failure");
  }

  private void auditRequest(UserExchange e, @Nullable String detail) {
    if (e.audited) {
      return;
    }
    e.audited = true;
    audit(e.auditEvent(config.engine().clock().instant(), detail));
  }

  private void audit(UserExchange e, AuditEvent.Type type, String detail) {
    AuditEvent request = e.auditEvent(config.engine().clock().instant(), detail);
    audit(new AuditEvent(request.time(), type, null, e.cluster, null, detail, request.attributes()));
  }

  private void audit(AuditEvent event) {
    config.audit().record(event); // batched off the event loop; never dropped
  }

  private void releasePending() {
    Object o;
    while ((o = pending.poll()) != null) {
      ReferenceCountUtil.release(o);
    }
  }

  private void onLoop(Runnable task) {
    ChannelHandlerContext c = ctx();
    if (c.executor().inEventLoop()) {
      task.run();
    } else {
      try {
        c.executor().execute(task);
      } catch (RejectedExecutionException shuttingDown) {
        log.debug("Relay is shutting down; dropped an event for channel {}", c.channel().id());
      }
    }
  }

  private String clientIp() {
    Channel channel = ctx().channel();
    SocketAddress address = http2 && channel.parent() != null ? channel.parent().remoteAddress() : channel.remoteAddress();
    return address instanceof InetSocketAddress inet ? inet.getAddress().getHostAddress() : "unknown";
  }

  private ChannelHandlerContext ctx() {
    return java.util.Objects.requireNonNull(ctx, "handler not added");
  }
}
