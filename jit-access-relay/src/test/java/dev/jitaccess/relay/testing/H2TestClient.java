package dev.jitaccess.relay.testing;

import dev.jitaccess.testkit.TestCertificates;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2FrameWriter;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Flags;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameTypes;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersEncoder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * An HTTP/2 client on Netty's own client codec ({@code Http2FrameCodecBuilder.forClient()}) that can also behave
 * like a hostile client: ignore the server's stream and header-list limits, reset streams right after opening
 * them, and write raw HEADERS/CONTINUATION frames that never end the header block.
 */
public final class H2TestClient implements AutoCloseable {

  /** What came back on one stream. */
  public static final class Stream extends ChannelInboundHandlerAdapter {
    /** The response head. */
    public final CompletableFuture<Http2Headers> headers = new CompletableFuture<>();

    /** The error code of an RST_STREAM from the server. */
    public final CompletableFuture<Long> reset = new CompletableFuture<>();

    /** Completes when the response ended (END_STREAM) or the stream closed. */
    public final CompletableFuture<Void> done = new CompletableFuture<>();

    /** Why the request head could not be written, if it could not. */
    public final CompletableFuture<Throwable> writeFailure = new CompletableFuture<>();

    /** Body bytes received so far. */
    public final java.util.concurrent.atomic.AtomicLong bodyBytes = new java.util.concurrent.atomic.AtomicLong();

    private final ByteArrayOutputStream body = new ByteArrayOutputStream();
    private final boolean keepBody;
    private volatile boolean paused;
    private volatile Http2StreamChannel channel;

    Stream(boolean keepBody) {
      this.keepBody = keepBody;
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      if (!paused) {
        ctx.fireChannelReadComplete();
      }
    }

    /** Starts reading again after {@link #requestPaused}: the client's window refills as it reads. */
    public void resume() {
      paused = false;
      channel.config().setAutoRead(true);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof Http2HeadersFrame frame) {
          headers.complete(frame.headers());
          if (frame.isEndStream()) {
            done.complete(null);
          }
        } else if (msg instanceof Http2DataFrame data) {
          bodyBytes.addAndGet(data.content().readableBytes());
          if (keepBody) {
            synchronized (body) {
              data.content().readBytes(body, data.content().readableBytes());
            }
          }
          if (data.isEndStream()) {
            done.complete(null);
          }
        } else if (msg instanceof Http2ResetFrame r) {
          reset.complete(r.errorCode());
        }
      } catch (java.io.IOException e) {
        throw new IllegalStateException(e);
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof Http2ResetFrame r) {
        reset.complete(r.errorCode());
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      done.complete(null);
      headers.completeExceptionally(new IllegalStateException("stream closed without a response"));
    }

    /** The response body so far, as UTF-8. */
    public String body() {
      synchronized (body) {
        return body.toString(StandardCharsets.UTF_8);
      }
    }

    /** The response status, waiting up to 5 s. */
    public String status() throws Exception {
      return String.valueOf(headers.get(5, TimeUnit.SECONDS).status());
    }

    /** Resets the stream from the client (RST_STREAM CANCEL). */
    public void cancel() {
      channel.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.CANCEL));
    }
  }

  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final Channel channel;
  private final boolean hostile;
  private volatile ChannelHandlerContext rawCtx;
  private volatile Http2FrameCodec codec;

  /** The server's first SETTINGS. */
  public final CompletableFuture<Http2Settings> settings = new CompletableFuture<>();

  /** The error code of the server's GOAWAY. */
  public final CompletableFuture<Long> goAway = new CompletableFuture<>();

  /**
   * Connects with ALPN {@code h2} and completes the preface exchange.
   *
   * @param certs the CA to trust
   * @param port the relay's port
   * @param hostile whether to ignore the server's concurrent-stream and header-list limits once they arrive
   */
  public H2TestClient(TestCertificates certs, int port, boolean hostile) throws Exception {
    this.hostile = hostile;
    SslContext tls = tls(certs);
    channel =
        new Bootstrap()
            .group(group)
            .channel(NioSocketChannel.class)
            .handler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    Http2FrameCodec c = Http2FrameCodecBuilder.forClient().autoAckSettingsFrame(true).build();
                    codec = c;
                    ch.pipeline()
                        .addLast(tls.newHandler(ch.alloc(), "localhost", port))
                        .addLast("raw", new ChannelDuplexHandler() {
                          @Override
                          public void handlerAdded(ChannelHandlerContext ctx) {
                            rawCtx = ctx;
                          }
                        })
                        .addLast(c)
                        .addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()))
                        .addLast(new ConnectionFrames());
                  }
                })
            .connect("localhost", port)
            .sync()
            .channel();
    settings.get(5, TimeUnit.SECONDS);
  }

  private static SslContext tls(TestCertificates certs) throws SSLException {
    return SslContextBuilder.forClient()
        .sslProvider(SslProvider.JDK)
        .trustManager(certs.ca())
        .applicationProtocolConfig(
            new ApplicationProtocolConfig(
                ApplicationProtocolConfig.Protocol.ALPN,
                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                ApplicationProtocolNames.HTTP_2))
        .build();
  }

  private final class ConnectionFrames extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof Http2SettingsFrame frame) {
          if (hostile) {
            // Undo what the codec applied from the server's SETTINGS, to send what a normal client would not.
            codec.connection().local().maxActiveStreams(Integer.MAX_VALUE);
            try {
              codec.encoder().configuration().headersConfiguration().maxHeaderListSize(Http2CodecUtil.MAX_HEADER_LIST_SIZE);
            } catch (Http2Exception e) {
              throw new IllegalStateException(e);
            }
          }
          settings.complete(frame.settings());
        } else if (msg instanceof Http2GoAwayFrame frame) {
          goAway.complete(frame.errorCode());
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }
  }

  /** A GET request head for the relay. */
  public static Http2Headers get(String path, String token) {
    Http2Headers h = new DefaultHttp2Headers().method("GET").path(path).scheme("https").authority("localhost");
    if (token != null) {
      h.set("authorization", "Bearer " + token);
    }
    return h;
  }

  /**
   * Opens a stream and sends a request head.
   *
   * @param headers the head
   * @param endStream whether the head ends the request
   * @return the stream's collector
   */
  public Stream request(Http2Headers headers, boolean endStream) {
    return request(headers, endStream, false);
  }

  /**
   * Sends a request and reads only the first frames of the answer: the client stops consuming (so it returns no
   * flow-control window) until {@link Stream#resume()}.
   */
  public Stream requestPaused(Http2Headers headers) {
    return request(headers, true, true);
  }

  private Stream request(Http2Headers headers, boolean endStream, boolean paused) {
    Stream s = new Stream(!paused);
    s.paused = paused;
    Http2StreamChannel stream = new Http2StreamChannelBootstrap(channel).handler(s).open().syncUninterruptibly().getNow();
    s.channel = stream;
    if (paused) {
      stream.eventLoop().submit(() -> {
        stream.config().setAutoRead(false);
        stream.read();
      }).syncUninterruptibly();
    }
    stream.writeAndFlush(new DefaultHttp2HeadersFrame(headers, endStream)).addListener(f -> {
      if (!f.isSuccess()) {
        s.writeFailure.complete(f.cause());
      }
    });
    return s;
  }

  /**
   * Sends HEADERS and at once RST_STREAM(CANCEL) on {@code count} new streams (CVE-2023-44487), without waiting for
   * answers. Stops early if the connection closes.
   *
   * @return how many pairs were written
   */
  public int rapidReset(Http2Headers headers, int count) throws Exception {
    // Batches of pairs sent back to back on the event loop, as an attacker does; between batches the client reads,
    // so it stops once the server's GOAWAY arrived (a client writing on regardless may have the GOAWAY destroyed by
    // the TCP reset of the server's close).
    int sent = 0;
    while (sent < count && channel.isActive() && !goAway.isDone()) {
      int batch = Math.min(20, count - sent);
      sent +=
          channel.eventLoop()
              .submit(() -> {
                int n = 0;
                for (; n < batch && channel.isActive(); n++) {
                  var opened = new Http2StreamChannelBootstrap(channel).handler(new ChannelInboundHandlerAdapter()).open();
                  if (!opened.isSuccess()) {
                    break;
                  }
                  Http2StreamChannel stream = opened.getNow();
                  stream.write(new DefaultHttp2HeadersFrame(headers, false));
                  stream.write(new DefaultHttp2ResetFrame(Http2Error.CANCEL));
                }
                channel.flush();
                return n;
              })
              .get(10, TimeUnit.SECONDS);
    }
    return sent;
  }

  /**
   * Writes a HEADERS frame without END_HEADERS on a fresh stream id, then CONTINUATION frames of the given header
   * block (HPACK-encoded {@code filler}) in slices, none of them ending the block, behind the codec's back.
   *
   * @param streamId an odd stream id above any the codec used
   * @param request the request head to encode first
   * @param fillerHeaders how many 1 KiB filler headers follow in the block
   * @param slice the payload of each frame
   * @param frames how many frames to write at most (HEADERS included)
   * @return how many frames were written before the connection closed
   */
  public int unfinishedHeaderBlock(int streamId, Http2Headers request, int fillerHeaders, int slice, int frames)
      throws Exception {
    Http2Headers block = new DefaultHttp2Headers().add(request);
    String value = "v".repeat(1024);
    for (int i = 0; i < fillerHeaders; i++) {
      block.add("x-filler-" + i, value);
    }
    ByteBuf encoded = Unpooled.buffer();
    new DefaultHttp2HeadersEncoder(Http2HeadersEncoder.NEVER_SENSITIVE, true)
        .encodeHeaders(streamId, block, encoded);
    DefaultHttp2FrameWriter writer = new DefaultHttp2FrameWriter();
    int written = 0;
    try {
      while (written < frames && encoded.isReadable() && channel.isActive() && !goAway.isDone()) {
        ByteBuf payload = encoded.readRetainedSlice(Math.min(slice, encoded.readableBytes()));
        byte type = written == 0 ? Http2FrameTypes.HEADERS : Http2FrameTypes.CONTINUATION;
        Http2Flags flags = new Http2Flags().endOfStream(written == 0);
        ChannelHandlerContext ctx = rawCtx;
        ChannelPromise sent =
            channel.eventLoop()
                .submit(() -> {
                  ChannelPromise promise = ctx.newPromise();
                  writer.writeFrame(ctx, type, streamId, flags, payload, promise);
                  ctx.flush();
                  return promise;
                })
                .get(10, TimeUnit.SECONDS);
        // Count only frames that left Netty's buffer: the kernel's socket buffers then bound what is in flight.
        if (!sent.await(10, TimeUnit.SECONDS) || !sent.isSuccess()) {
          break;
        }
        written++;
      }
    } finally {
      encoded.release();
    }
    return written;
  }

  /** Writes one CONTINUATION frame of filler bytes on a stream, behind the codec's back. */
  public void continuation(int streamId, int bytes) throws Exception {
    ChannelHandlerContext ctx = rawCtx;
    ByteBuf payload = Unpooled.buffer(bytes).writeZero(bytes);
    channel.eventLoop()
        .submit(() -> {
          new DefaultHttp2FrameWriter()
              .writeFrame(ctx, Http2FrameTypes.CONTINUATION, streamId, new Http2Flags(), payload, ctx.newPromise());
          ctx.flush();
        })
        .sync();
  }

  /** Sends a DATA frame on a stream. */
  public static void data(Stream stream, String text, boolean endStream) {
    stream.channel.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8), endStream));
  }

  /** Whether the connection is still open. */
  public boolean isOpen() {
    return channel.isOpen();
  }

  /** Completes when the connection closed. */
  public io.netty.channel.ChannelFuture closeFuture() {
    return channel.closeFuture();
  }

  @Override
  public void close() {
    channel.close().awaitUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
  }
}
