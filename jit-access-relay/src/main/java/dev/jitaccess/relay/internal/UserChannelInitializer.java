package dev.jitaccess.relay.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateHandler;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The user side's pipeline: TLS, then HTTP/2 or HTTP/1.1 by ALPN, each with the relay's limits.
 *
 * <p>HTTP/1.1: Netty's decoder with the request-line, header-size and chunk limits, obsolete folding refused, a
 * header-read deadline and an idle timeout. HTTP/2: a header-list limit (which also bounds a CONTINUATION flood,
 * CVE-2024-27316 class), the configured concurrent-stream limit (default
 * {@value UserSideConfig#MAX_CONCURRENT_STREAMS}), Netty's rapid-reset defence (CVE-2023-44487), a deadline for
 * a connection without an open stream ({@link Http2ConnectionDeadlineHandler}) and an idle timeout per stream; each
 * stream is converted to HTTP objects so one request handler
 * serves both protocols.
 */
public final class UserChannelInitializer extends ChannelInitializer<SocketChannel> {

  /** RST_STREAM frames a client may send per window before the connection is closed. */
  private static final int MAX_RST_FRAMES = 200;

  private static final int RST_WINDOW_SECONDS = 30;

  private final SslContext sslContext;
  private final UserSideConfig config;

  /**
   * Creates the initializer.
   *
   * @param sslContext the server TLS context with ALPN {@code h2} and {@code http/1.1}
   * @param config the user side's configuration
   */
  public UserChannelInitializer(SslContext sslContext, UserSideConfig config) {
    this.sslContext = sslContext;
    this.config = config;
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    SslHandler ssl = sslContext.newHandler(ch.alloc());
    ssl.setHandshakeTimeoutMillis(config.headerReadTimeout().toMillis());
    ch.pipeline().addLast("tls", ssl).addLast("flush", Flushes.consolidating()).addLast("alpn", new Negotiator());
  }

  private final class Negotiator extends ApplicationProtocolNegotiationHandler {
    Negotiator() {
      super(ApplicationProtocolNames.HTTP_1_1);
    }

    @Override
    protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
      ChannelPipeline p = ctx.pipeline();
      if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
        configureHttp2(p);
      } else if (ApplicationProtocolNames.HTTP_1_1.equals(protocol)) {
        configureHttp1(p);
      } else {
        ctx.close();
      }
    }
  }

  private void configureHttp1(ChannelPipeline p) {
    HttpDecoderConfig decoder =
        new HttpDecoderConfig()
            .setMaxInitialLineLength(UserSideConfig.MAX_INITIAL_LINE)
            .setMaxHeaderSize(config.maxHeaderSize())
            .setMaxChunkSize(UserSideConfig.MAX_CHUNK)
            .setValidateHeaders(true)
            .setStrictLineParsing(true)
            .setAllowDuplicateContentLengths(false);
    p.addLast("http-decoder", new HttpStrictRequestDecoder(decoder))
        .addLast("http-encoder", new HttpResponseEncoder())
        .addLast("head-timeout", new HttpHeadTimeoutHandler(config.headerReadTimeout()))
        .addLast("idle", idleHandler())
        .addLast("request", new UserRequestHandler(config, false));
  }

  private void configureHttp2(ChannelPipeline p) {
    Http2Settings settings =
        Http2Settings.defaultSettings()
            .maxConcurrentStreams(config.maxConcurrentStreams())
            .maxHeaderListSize(config.maxHeaderSize());
    p.addLast(
            "h2",
            new UserHttp2CodecBuilder(config)
                .initialSettings(settings)
                .validateHeaders(true)
                .decoderEnforceMaxRstFramesPerWindow(MAX_RST_FRAMES, RST_WINDOW_SECONDS)
                .build())
        .addLast(
            "h2-streams",
            new Http2MultiplexHandler(
                new ChannelInitializer<Http2StreamChannel>() {
                  @Override
                  protected void initChannel(Http2StreamChannel stream) {
                    stream.pipeline()
                        .addLast(new Http2StreamFrameToHttpObjectCodec(true, true))
                        .addLast(idleHandler())
                        .addLast(new UserRequestHandler(config, true));
                  }
                }))
        // Without an open stream a connection gets the header-read deadline, or the idle timeout when shorter.
        .addLast(
            "h2-deadline",
            new Http2ConnectionDeadlineHandler(shorter(config.headerReadTimeout(), config.idleTimeout())));
  }

  private static Duration shorter(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private IdleStateHandler idleHandler() {
    return new IdleStateHandler(0, 0, config.idleTimeout().toMillis(), TimeUnit.MILLISECONDS);
  }
}
