package dev.jitaccess.relay.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's side of the tunnel handshake: sends {@code GET /_jit/connect} with the credential, and on a
 * {@code 101} with the tunnel's upgrade token turns the connection into an HTTP/2 server whose streams are
 * served by {@link AgentStreamHandler}. Any other answer closes the connection (the connector retries).
 */
final class AgentHandshakeHandler extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(AgentHandshakeHandler.class);

  private final AgentSettings settings;
  private final AgentContext context;
  private final String credential;
  private final Answer onAnswer;
  private boolean switching;
  private int slots;

  /** Told the relay's answer to the handshake, on the event loop. */
  @FunctionalInterface
  interface Answer {
    /**
     * @param status the status; 101 means the tunnel is established
     * @param slots the relay's advertised event loop count ({@link TunnelProtocol#SLOTS_HEADER}); 0 when the
     *     header is absent or not a positive integer
     */
    void answered(int status, int slots);
  }

  /**
   * @param onAnswer told the relay's answer (101 means connected), on the event loop
   */
  AgentHandshakeHandler(AgentSettings settings, AgentContext context, String credential, Answer onAnswer) {
    this.settings = settings;
    this.context = context;
    this.credential = credential;
    this.onAnswer = onAnswer;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    FullHttpRequest request =
        new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, TunnelProtocol.CONNECT_PATH);
    request.headers()
        .set(HttpHeaderNames.HOST, settings.relayHost() + ":" + settings.relayPort())
        .set(HttpHeaderNames.AUTHORIZATION, "Bearer " + credential)
        .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE)
        .set(HttpHeaderNames.UPGRADE, TunnelProtocol.UPGRADE_TOKEN)
        .setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
    ctx.writeAndFlush(request);
    super.channelActive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (msg instanceof HttpResponse response) {
        int status = response.status().code();
        switching =
            status == HttpResponseStatus.SWITCHING_PROTOCOLS.code()
                && response.headers()
                    .containsValue(HttpHeaderNames.UPGRADE, TunnelProtocol.UPGRADE_TOKEN, true);
        slots = slots(response.headers().get(TunnelProtocol.SLOTS_HEADER));
        if (!switching) {
          onAnswer.answered(status, 0);
          ctx.close();
          return;
        }
      }
      if (msg instanceof LastHttpContent && switching) {
        upgrade(ctx);
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  private void upgrade(ChannelHandlerContext ctx) {
    var pipeline = ctx.pipeline();
    HttpClientCodec http1 = pipeline.get(HttpClientCodec.class);
    // From now on the HTTP/1 encoder passes bytes through (the HTTP/2 preface is written while it is there).
    http1.prepareUpgradeFrom(ctx);
    pipeline.addAfter(
        ctx.name(),
        "h2",
        Http2FrameCodecBuilder.forServer()
            .initialSettings(
                Http2Settings.defaultSettings().maxConcurrentStreams(1000).maxHeaderListSize(64 * 1024))
            // No rapid-reset limit against the relay: it resets a stream whenever a user goes away, and it
            // limits resets per user connection itself. With Netty's server default (200 per 30 s) a few
            // users closing watches could make the agent drop the tunnel every user of the cluster shares.
            .decoderEnforceMaxRstFramesPerWindow(0, 0)
            .build());
    pipeline.addAfter(
        "h2",
        "mux",
        new Http2MultiplexHandler(
            new ChannelInitializer<Http2StreamChannel>() {
              @Override
              protected void initChannel(Http2StreamChannel stream) {
                stream.pipeline().addLast(new AgentStreamHandler(context));
              }
            }));
    HeartbeatHandler.install(
        pipeline, "h2", settings.heartbeat(), "to relay " + settings.relayHost() + ":" + settings.relayPort());
    pipeline.remove(this);
    // Removed last: bytes the relay sent right after its 101 (its HTTP/2 preface) flow on to the new codec.
    pipeline.remove(http1);
    TunnelCodecs.enlargeConnectionWindow(ctx.channel());
    log.debug("Tunnel to {} established", settings.relayHost());
    onAnswer.answered(HttpResponseStatus.SWITCHING_PROTOCOLS.code(), slots);
  }

  /** The advertised slot count, or 0 when absent or not a positive integer. */
  static int slots(@Nullable String header) {
    if (header == null) {
      return 0;
    }
    try {
      int value = Integer.parseInt(header.trim());
      return Math.max(value, 0);
    } catch (NumberFormatException e) {
      log.debug("Ignoring the relay's malformed {} header", TunnelProtocol.SLOTS_HEADER);
      return 0;
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("Tunnel handshake with {} failed: {}", settings.relayHost(), cause.toString());
    ctx.close();
  }
}
