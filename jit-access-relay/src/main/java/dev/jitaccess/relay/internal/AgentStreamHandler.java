package dev.jitaccess.relay.internal;

import dev.jitaccess.api.ForwardRequest;
import dev.jitaccess.api.ForwardResponse;
import dev.jitaccess.api.Grant;
import dev.jitaccess.api.ProvisionedAccount;
import dev.jitaccess.api.ProvisioningException;
import dev.jitaccess.api.UpgradedConnection;
import dev.jitaccess.core.GrantVerifier;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Flow;
import java.util.concurrent.RejectedExecutionException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP/2 stream on the agent: a user request (verify the grant, provision, forward, stream the answer
 * back) or a control message under {@code /_jit/}. Blocking work runs on the agent's executor; the stream's
 * flow-control window is the only buffer in either direction. One instance per stream.
 */
final class AgentStreamHandler extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(AgentStreamHandler.class);

  /** Request body bytes buffered before the stream stops reading. */
  static final int BODY_BUFFER = 64 * 1024;

  /** Response headers that are connection-specific and forbidden in HTTP/2. */
  private static final Set<String> CONNECTION_HEADERS =
      Set.of("connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te");

  private final AgentContext context;
  private @Nullable AgentRequestBody body;
  private @Nullable AgentControl control;
  private @Nullable AgentResponsePump pump;
  private @Nullable ForwardResponse response;
  private @Nullable AgentResponseStream bodyCopier;
  private boolean headersSeen;
  private volatile boolean closed;

  AgentStreamHandler(AgentContext context) {
    this.context = context;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (msg instanceof Http2HeadersFrame headers && !headersSeen) {
        headersSeen = true;
        onHeaders(ctx.channel(), headers);
      } else if (msg instanceof Http2DataFrame data) {
        onData(ctx.channel(), data);
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  private void onHeaders(Channel stream, Http2HeadersFrame frame) {
    Http2Headers headers = frame.headers();
    String path = String.valueOf(headers.path());
    if (path.startsWith("/_jit/")) {
      control = new AgentControl(stream, context, String.valueOf(headers.method()), path);
      if (frame.isEndStream()) {
        control.end();
      }
      return;
    }
    AgentIncoming incoming;
    try {
      incoming = AgentIncoming.parse(headers, frame.isEndStream());
    } catch (AgentIncoming.Refused e) {
      AgentStatus.send(stream, e.code(), e.reason(), e.getMessage());
      return;
    }
    if (!frame.isEndStream()) {
      body = new AgentRequestBody(BODY_BUFFER, () -> resumeReading(stream));
    }
    ForwardRequest request = incoming.toForwardRequest(incoming.upgrade() == null ? body : null);
    if (frame.isEndStream() && incoming.upgrade() == null && serveWarm(stream, incoming, request)) {
      return;
    }
    offload(stream, () -> process(stream, incoming, request));
  }

  private void offload(Channel stream, Runnable work) {
    try {
      context.executor().execute(work);
    } catch (RejectedExecutionException e) {
      AgentStatus.send(stream, 503, "ServiceUnavailable", "the agent is overloaded; retry later");
    }
  }

  /**
   * On the event loop, for a body-less request: when the grant was verified before and its account is cached,
   * checks and forwards right here (a warm request makes no thread hand-off in the agent). Returns false when
   * something may block (a signature to verify), and the request goes to the executor instead.
   */
  private boolean serveWarm(Channel stream, AgentIncoming incoming, ForwardRequest request) {
    Grant grant;
    try {
      grant = context.grantCheck().verifyIfCached(incoming.signedGrant());
    } catch (RuntimeException e) {
      refuseGrant(stream, e);
      return true;
    }
    if (grant == null) {
      return false;
    }
    if (!admit(stream, grant)) {
      return true;
    }
    ProvisionedAccount account = context.accounts().ensureIfCached(grant);
    if (account != null && context.forwarder().isNonBlocking()) {
      forward(stream, incoming, request, account);
    } else if (account != null) {
      offload(stream, () -> forward(stream, incoming, request, account));
    } else {
      offload(stream, () -> provisionAndForward(stream, incoming, request, grant));
    }
    return true;
  }

  private static void resumeReading(Channel stream) {
    stream.eventLoop()
        .execute(
            () -> {
              stream.config().setAutoRead(true);
              stream.read();
              stream.flush(); // the WINDOW_UPDATE the read began with, when nothing was buffered (see StreamReads)
            });
  }

  private void onData(Channel stream, Http2DataFrame data) {
    if (control != null) {
      control.data(data);
      return;
    }
    AgentRequestBody pipe = body;
    if (pipe == null) {
      return;
    }
    if (!pipe.offer(data.content())) {
      stream.config().setAutoRead(false);
    }
    if (data.isEndStream()) {
      pipe.finish();
    }
  }

  /** On the executor: everything that may block. */
  private void process(Channel stream, AgentIncoming incoming, ForwardRequest request) {
    Grant grant;
    try {
      grant = context.grantCheck().verify(incoming.signedGrant());
    } catch (RuntimeException e) {
      refuseGrant(stream, e);
      return;
    }
    if (admit(stream, grant)) {
      provisionAndForward(stream, incoming, request, grant);
    }
  }

  private static void refuseGrant(Channel stream, RuntimeException e) {
    // Fail closed: any verifier failure is a refusal, and its message may name claims but no token.
    log.debug("Refused a grant on stream {}: {}", stream.id(), e.getMessage());
    AgentStatus.send(stream, 401, "Unauthorized", "the grant was refused by the agent");
  }

  /** Expiry and revocation, then tracks the stream under its subject; false if answered (refused). */
  private boolean admit(Channel stream, Grant grant) {
    // The same tolerance as the grant's verification (60 s), so an agent whose clock runs ahead of the engine's
    // does not refuse the last seconds of a grant the relay still holds.
    if (grant.isExpiredAt(context.clock().instant().minus(GrantVerifier.CLOCK_SKEW))) {
      AgentStatus.send(stream, 401, "Unauthorized", "the grant has expired");
      return false;
    }
    if (context.grants().isRevoked(grant)) {
      AgentStatus.send(stream, 403, "Forbidden", "access was revoked for " + grant.subject().id());
      return false;
    }
    return context.grants().track(grant, stream);
  }

  /** On the executor: provisioning may call kube-apiserver. */
  private void provisionAndForward(Channel stream, AgentIncoming incoming, ForwardRequest request, Grant grant) {
    ProvisionedAccount account;
    try {
      account = context.accounts().ensure(grant);
    } catch (ProvisioningException e) {
      log.warn("Provisioning for grant {} failed: {}", grant.id(), e.getMessage());
      AgentStatus.send(stream, 503, "ServiceUnavailable", "could not prepare the ServiceAccount; retry later");
      return;
    } catch (RuntimeException e) {
      log.error("Provisioning for grant {} failed unexpectedly", grant.id(), e);
      AgentStatus.send(stream, 500, "InternalError", "could not prepare the ServiceAccount");
      return;
    }
    if (request.body() == null && incoming.upgrade() == null && context.forwarder().isNonBlocking()) {
      // Back to the stream's loop: a non-blocking forwarder then uses that loop's connection, and the answer
      // needs no hand-off (from here it would go through the forwarder's own threads).
      try {
        stream.eventLoop().execute(() -> forward(stream, incoming, request, account));
        return;
      } catch (RejectedExecutionException shuttingDown) {
        // the agent is closing: forward from here, the stream fails anyway
      }
    }
    forward(stream, incoming, request, account);
  }

  /**
   * On the executor, or on the event loop for a body-less request to a non-blocking forwarder. The answer is
   * handled where the forwarder completes it.
   */
  private void forward(
      Channel stream, AgentIncoming incoming, ForwardRequest request, ProvisionedAccount account) {
    CompletableFuture<ForwardResponse> answer;
    try {
      answer = context.forwarder().forwardAsync(request, account.token());
    } catch (IllegalArgumentException e) {
      AgentStatus.send(stream, 400, "BadRequest", "the agent refused the request: " + e.getMessage());
      return;
    } catch (RuntimeException e) {
      unreachable(stream, e);
      return;
    }
    Thread caller = Thread.currentThread();
    answer.whenComplete(
        (response, failure) -> {
          if (failure != null) {
            unreachable(stream, failure);
          } else {
            // A blocking body may be copied here only on the agent's own worker that called forward.
            boolean onWorker = Thread.currentThread() == caller && !stream.eventLoop().inEventLoop();
            onAnswer(stream, incoming, response, onWorker);
          }
        });
  }

  private static void unreachable(Channel stream, Throwable failure) {
    Throwable cause =
        failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    log.warn("Forwarding on stream {} failed: {}", stream.id(), cause.toString());
    AgentStatus.send(stream, 502, "InternalError", "kube-apiserver could not be reached");
  }

  /** On whichever thread completed the forward: the forwarder's, the executor's or the event loop. */
  private void onAnswer(Channel stream, AgentIncoming incoming, ForwardResponse answer, boolean onWorker) {
    if (incoming.upgrade() != null) {
      stream.eventLoop().execute(() -> respond(stream, incoming, answer, null));
      return;
    }
    Optional<Flow.Publisher<ByteBuffer>> publisher = answer.bodyPublisher();
    if (publisher.isPresent()) {
      AgentResponseStream copier = new AgentResponseStream(stream, responseHeaders(answer));
      stream.eventLoop().execute(() -> attach(stream, answer, copier));
      copier.start(publisher.get());
      return;
    }
    if (onWorker) {
      copyBlocking(stream, incoming, answer);
    } else {
      offload(stream, () -> copyBlocking(stream, incoming, answer)); // never block a loop or the forwarder
    }
  }

  /** On the event loop: remember what to stop when the stream closes. */
  private void attach(Channel stream, ForwardResponse answer, AgentResponseStream copier) {
    response = answer;
    bodyCopier = copier;
    if (closed || !stream.isActive()) {
      copier.close();
      closeQuietly(answer);
    }
  }

  /** On a worker: a body behind a blocking {@link java.io.InputStream}. */
  private void copyBlocking(Channel stream, AgentIncoming incoming, ForwardResponse answer) {
    long length = smallContentLength(incoming, answer);
    if (length >= 0) {
      // A small answer of known length: read it here, then headers, body and end leave in one event-loop task.
      ByteBuf whole;
      try {
        whole = readFully(answer.body(), (int) length);
      } catch (IOException | RuntimeException e) {
        log.debug("Response body of stream {} failed; resetting it: {}", stream.id(), e.toString());
        closeQuietly(answer);
        stream.close();
        return;
      }
      closeQuietly(answer); // read to its length: nothing left to stream
      stream.eventLoop().execute(() -> respondWhole(stream, answer, whole));
      return;
    }
    // Headers first, then this worker goes on copying the body instead of handing it to another.
    AgentResponsePump copier = new AgentResponsePump(stream, answer.body(), context.executor());
    stream.eventLoop().execute(() -> respond(stream, incoming, answer, copier));
    copier.runHere();
  }

  /** The Content-Length of an answer that is at most one chunk, else -1 (unknown, large, or HEAD). */
  private static long smallContentLength(AgentIncoming incoming, ForwardResponse answer) {
    int status = answer.status();
    if ("HEAD".equals(incoming.method()) || status < 200 || status == 204 || status == 304) {
      return -1;
    }
    String value = null;
    for (Map.Entry<String, List<String>> header : answer.headers().entrySet()) {
      if (header.getKey().equalsIgnoreCase("content-length")) {
        if (value != null || header.getValue().size() != 1) {
          return -1;
        }
        value = header.getValue().get(0);
      }
    }
    if (value == null || value.isEmpty() || value.length() > 6) {
      return -1;
    }
    for (int i = 0; i < value.length(); i++) {
      if (value.charAt(i) < '0' || value.charAt(i) > '9') {
        return -1;
      }
    }
    long length = Long.parseLong(value);
    return length <= AgentResponsePump.CHUNK_SIZE ? length : -1;
  }

  private static ByteBuf readFully(java.io.InputStream body, int length) throws IOException {
    byte[] bytes = body.readNBytes(length);
    if (bytes.length < length) {
      throw new IOException("the body ended after " + bytes.length + " of " + length + " bytes");
    }
    return io.netty.buffer.Unpooled.wrappedBuffer(bytes);
  }

  /** On the event loop: headers, the whole body and the end, flushed once. */
  private void respondWhole(Channel stream, ForwardResponse answer, ByteBuf whole) {
    if (closed || !stream.isActive()) {
      whole.release();
      return;
    }
    boolean empty = !whole.isReadable();
    stream.write(new DefaultHttp2HeadersFrame(responseHeaders(answer), empty));
    if (empty) {
      whole.release();
    } else {
      stream.write(new DefaultHttp2DataFrame(whole, true));
    }
    stream.flush();
  }

  private static Http2Headers responseHeaders(ForwardResponse answer) {
    Http2Headers headers = new DefaultHttp2Headers();
    headers.status(Integer.toString(answer.status()));
    for (Map.Entry<String, List<String>> header : answer.headers().entrySet()) {
      // HTTP/2 header names are lower case (RFC 9113 §8.2.1); an HTTP/1.1 apiserver answers "Content-Type".
      String name = header.getKey().toLowerCase(Locale.ROOT);
      if (!CONNECTION_HEADERS.contains(name) && !name.startsWith(":")) {
        headers.add(name, header.getValue());
      }
    }
    return headers;
  }

  /** On the event loop; {@code copier} is already copying the body for a plain answer, null for an upgrade. */
  private void respond(
      Channel stream, AgentIncoming incoming, ForwardResponse answer, @Nullable AgentResponsePump copier) {
    if (closed || !stream.isActive()) {
      if (copier != null) {
        copier.stop();
      }
      closeQuietly(answer);
      return;
    }
    response = answer;
    Optional<UpgradedConnection> upgraded =
        incoming.upgrade() == null ? Optional.empty() : answer.upgraded();
    Http2Headers headers;
    if (upgraded.isPresent()) {
      headers = new DefaultHttp2Headers();
      headers.status("200").set(TunnelHeaders.UPGRADED_HEADER, incoming.upgrade());
    } else {
      headers = responseHeaders(answer);
    }
    stream.writeAndFlush(new DefaultHttp2HeadersFrame(headers));
    if (copier != null) {
      pump = copier; // already copying on the worker that forwarded
      copier.writabilityChanged(); // in case it paused for a change that came before it was known here
      return;
    }
    if (upgraded.isPresent()) {
      AgentRequestBody fromRelay = body;
      if (fromRelay != null) {
        AgentUpgradeCopier.start(stream, fromRelay, upgraded.get(), context.executor());
      }
      pump = new AgentResponsePump(stream, upgraded.get().fromServer(), context.executor());
    } else {
      if (body != null) {
        body.close(); // no byte pipe without a real 101
      }
      pump = new AgentResponsePump(stream, answer.body(), context.executor());
    }
    pump.start();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    if (pump != null) {
      pump.writabilityChanged();
    }
    if (bodyCopier != null) {
      bodyCopier.writabilityChanged();
    }
    super.channelWritabilityChanged(ctx);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    closed = true;
    if (body != null) {
      body.fail(new IOException("the stream was closed (client went away, revoked, expired or tunnel lost)"));
    }
    if (pump != null) {
      pump.stop();
    }
    if (bodyCopier != null) {
      bodyCopier.close();
    }
    ForwardResponse answer = response;
    if (answer != null && bodyCopier != null) {
      closeQuietly(answer); // a non-blocking body: its close never blocks, so no hand-off
    } else if (answer != null) {
      try {
        context.executor().execute(() -> closeQuietly(answer));
      } catch (RejectedExecutionException e) {
        closeQuietly(answer);
      }
    }
    super.channelInactive(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("Stream {} failed: {}", ctx.channel().id(), cause.toString());
    ctx.close();
  }

  private static void closeQuietly(ForwardResponse answer) {
    try {
      answer.close();
    } catch (RuntimeException e) {
      log.debug("Closing a response failed: {}", e.toString());
    }
  }
}
