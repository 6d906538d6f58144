package dev.jitaccess.relay.internal;

import dev.jitaccess.api.AuditEvent;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accepts exactly one {@code GET /_jit/connect} with {@code Upgrade: jit-tunnel/1} and a bearer agent
 * credential, verifies it off the event loop and, on success, answers 101 and turns the connection into an
 * HTTP/2 client tunnel filed under the <em>verified</em> cluster id. Anything else the agent claims (headers,
 * SNI) is ignored. The {@code 101} tells the agent how many tunnels to open ({@link TunnelProtocol#SLOTS_HEADER}).
 * One instance per connection.
 */
final class TunnelConnectHandler extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(TunnelConnectHandler.class);

  /** Largest credential accepted for verification (DESIGN.md §4 token size cap). */
  static final int MAX_CREDENTIAL_LENGTH = 16 * 1024;

  private static final String BEARER = "Bearer ";

  private final AccessEngine engine;
  private final DefaultTunnelRegistry registry;
  private final Executor verifier;
  private final HeartbeatSettings heartbeat;
  private final Duration handshakeTimeout;
  private final int slots;
  private @Nullable ScheduledFuture<?> deadline;
  private boolean requestSeen;

  /**
   * @param slots the relay's event loop count, advertised in the {@code 101}; 0 advertises nothing (as an older
   *     relay)
   */
  TunnelConnectHandler(
      AccessEngine engine,
      DefaultTunnelRegistry registry,
      Executor verifier,
      HeartbeatSettings heartbeat,
      Duration handshakeTimeout,
      int slots) {
    this.engine = engine;
    this.registry = registry;
    this.verifier = verifier;
    this.heartbeat = heartbeat;
    this.handshakeTimeout = handshakeTimeout;
    this.slots = slots;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    // An absolute deadline, not a read timeout: a slow sender cannot keep a half-open handshake alive.
    deadline = ctx.executor().schedule(() -> ctx.close(), handshakeTimeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    cancelDeadline();
    super.channelInactive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (!(msg instanceof HttpRequest request) || requestSeen) {
        return; // body bytes or a pipelined request: ignored, the connection is decided by the first request
      }
      requestSeen = true;
      handle(ctx, request);
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  private void handle(ChannelHandlerContext ctx, HttpRequest request) {
    if (request.decoderResult().isFailure()) {
      boolean tooLong = request.decoderResult().cause() instanceof TooLongFrameException;
      refuse(ctx, tooLong ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE : HttpResponseStatus.BAD_REQUEST);
      return;
    }
    if (!HttpMethod.GET.equals(request.method()) || !TunnelProtocol.CONNECT_PATH.equals(request.uri())) {
      refuse(ctx, HttpResponseStatus.NOT_FOUND);
      return;
    }
    if (!request.headers().containsValue(HttpHeaderNames.UPGRADE, TunnelProtocol.UPGRADE_TOKEN, true)) {
      refuse(ctx, HttpResponseStatus.UPGRADE_REQUIRED);
      return;
    }
    List<String> authorization = request.headers().getAll(HttpHeaderNames.AUTHORIZATION);
    String credential =
        authorization.size() == 1 && authorization.get(0).startsWith(BEARER)
            ? authorization.get(0).substring(BEARER.length()).trim()
            : "";
    if (credential.isEmpty() || credential.length() > MAX_CREDENTIAL_LENGTH) {
      deny(ctx, credential.isEmpty() ? "missing" : "oversized");
      return;
    }
    ctx.channel().config().setAutoRead(false);
    try {
      verifier.execute(() -> verify(ctx, credential));
    } catch (RejectedExecutionException e) {
      refuse(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE);
    }
  }

  private void verify(ChannelHandlerContext ctx, String credential) {
    String cluster;
    try {
      cluster = engine.verifyAgentCredential(credential);
    } catch (RuntimeException e) {
      // Any failure, not only AuthenticationException, is a refusal (fail closed).
      ctx.executor().execute(() -> deny(ctx, fingerprint(credential)));
      return;
    }
    ctx.executor().execute(() -> accept(ctx, cluster));
  }

  private void deny(ChannelHandlerContext ctx, String fingerprint) {
    engine.audit(
        new AuditEvent(
            engine.clock().instant(),
            AuditEvent.Type.DENIED,
            null,
            null,
            null,
            "agent credential refused",
            Map.of(
                "remote", String.valueOf(ctx.channel().remoteAddress()),
                "credentialFingerprint", fingerprint)));
    refuse(ctx, HttpResponseStatus.UNAUTHORIZED);
  }

  private void refuse(ChannelHandlerContext ctx, HttpResponseStatus status) {
    cancelDeadline();
    FullHttpResponse response =
        new DefaultFullHttpResponse(
            HttpVersion.HTTP_1_1,
            status,
            Unpooled.copiedBuffer(status.reasonPhrase() + "\n", StandardCharsets.UTF_8));
    response.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN)
        .setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes())
        .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
  }

  private void accept(ChannelHandlerContext ctx, String cluster) {
    if (!ctx.channel().isActive()) {
      return;
    }
    cancelDeadline();
    FullHttpResponse response =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS);
    response.headers()
        .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE)
        .set(HttpHeaderNames.UPGRADE, TunnelProtocol.UPGRADE_TOKEN);
    if (slots > 0) {
      response.headers().setInt(TunnelProtocol.SLOTS_HEADER, slots);
    }
    // Encoded synchronously by the HTTP/1 codec, so it precedes the HTTP/2 preface on the wire.
    ctx.writeAndFlush(response);
    var pipeline = ctx.pipeline();
    pipeline.remove(HttpServerCodec.class);
    Http2FrameCodec codec =
        Http2FrameCodecBuilder.forClient()
            .initialSettings(Http2Settings.defaultSettings().pushEnabled(false).maxHeaderListSize(64 * 1024))
            // Said, not left to Netty's client default: the agent resets every stream of a watch that broke, so
            // a restarted kube-apiserver means hundreds of resets at once, which must not cost the tunnel.
            .decoderEnforceMaxRstFramesPerWindow(0, 0)
            .build();
    pipeline.addLast("h2", codec);
    pipeline.addLast("mux", new Http2MultiplexHandler(RefusePushHandler.INSTANCE));
    pipeline.addLast("errors", ClosingExceptionHandler.INSTANCE);
    HeartbeatHandler.install(pipeline, "h2", heartbeat, "cluster " + cluster);
    pipeline.remove(this);
    TunnelCodecs.enlargeConnectionWindow(ctx.channel());
    registry.register(cluster, ctx.channel());
    ctx.channel().config().setAutoRead(true);
    log.info("Agent for cluster {} connected from {}", cluster, ctx.channel().remoteAddress());
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // Before the upgrade: aborted TLS handshakes, scanners, malformed requests. Close, no stack trace at WARN.
    cancelDeadline();
    ClosingExceptionHandler.INSTANCE.exceptionCaught(ctx, cause);
  }

  private void cancelDeadline() {
    if (deadline != null) {
      deadline.cancel(false);
      deadline = null;
    }
  }

  /** The first 8 hex characters of the credential's SHA-256: enough to correlate, useless to an attacker. */
  static String fingerprint(String credential) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(credential.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 4);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** The relay never accepts streams the agent opens. */
  @ChannelHandler.Sharable
  private static final class RefusePushHandler extends ChannelInboundHandlerAdapter {
    static final RefusePushHandler INSTANCE = new RefusePushHandler();

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      ctx.close();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ReferenceCountUtil.release(msg);
    }
  }
}
