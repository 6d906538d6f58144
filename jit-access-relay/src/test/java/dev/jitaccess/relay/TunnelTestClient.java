package dev.jitaccess.relay;

import dev.jitaccess.relay.internal.TunnelRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/** A minimal HTTP/2 client for one request through {@link TunnelRegistry#openStream}, like the user side. */
final class TunnelTestClient extends ChannelInboundHandlerAdapter {
  final CompletableFuture<Http2Headers> headers = new CompletableFuture<>();
  final CompletableFuture<Void> done = new CompletableFuture<>();
  private final ByteArrayOutputStream body = new ByteArrayOutputStream();
  private final boolean slowReader;
  volatile @Nullable Http2StreamChannel channel;

  private TunnelTestClient(boolean slowReader) {
    this.slowReader = slowReader;
  }

  static Http2Headers get(String path, @Nullable String grant) {
    Http2Headers headers =
        new DefaultHttp2Headers().method("GET").path(path).scheme("https").authority("kubernetes");
    if (grant != null) {
      headers.set("jit-grant", grant);
    }
    return headers;
  }

  /** Sends the request (ended unless a body or an open stream is wanted) and returns the collector. */
  static TunnelTestClient send(
      TunnelRegistry registry, String cluster, Http2Headers headers, byte @Nullable [] body, boolean endStream) {
    return send(registry, cluster, headers, body, endStream, false);
  }

  static TunnelTestClient send(
      TunnelRegistry registry,
      String cluster,
      Http2Headers headers,
      byte @Nullable [] body,
      boolean endStream,
      boolean slowReader) {
    TunnelTestClient client = new TunnelTestClient(slowReader);
    Http2StreamChannel stream =
        registry.openStream(cluster, client).syncUninterruptibly().getNow();
    client.channel = stream;
    stream.eventLoop()
        .execute(
            () -> {
              if (slowReader) {
                stream.config().setAutoRead(false);
                stream.read();
              }
              stream.write(new DefaultHttp2HeadersFrame(headers, body == null && endStream));
              if (body != null) {
                stream.write(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(body), endStream));
              }
              stream.flush();
            });
    return client;
  }

  void sendData(String text, boolean endStream) {
    Http2StreamChannel stream = channel;
    stream.writeAndFlush(
        new DefaultHttp2DataFrame(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8), endStream));
  }

  static TunnelTestClient simple(TunnelRegistry registry, String cluster, String path, @Nullable String grant) {
    return send(registry, cluster, get(path, grant), null, true);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (msg instanceof Http2HeadersFrame frame) {
        if (!headers.isDone()) {
          headers.complete(frame.headers());
        }
        if (frame.isEndStream()) {
          done.complete(null);
        }
      } else if (msg instanceof Http2DataFrame data) {
        ByteBuf content = data.content();
        synchronized (body) {
          content.readBytes(body, content.readableBytes());
        }
        if (data.isEndStream()) {
          done.complete(null);
        }
      } else if (msg instanceof Http2ResetFrame reset) {
        fail("stream reset with error " + reset.errorCode());
      }
    } catch (java.io.IOException e) {
      fail(e.toString());
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (slowReader) {
      return; // read nothing more: the flow-control window fills up
    }
    ctx.fireChannelReadComplete();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    fail("stream closed before its end");
  }

  private void fail(String why) {
    IllegalStateException failure = new IllegalStateException(why);
    headers.completeExceptionally(failure);
    done.completeExceptionally(failure);
  }

  String status(Duration timeout) throws Exception {
    return String.valueOf(headers.get(timeout.toMillis(), TimeUnit.MILLISECONDS).status());
  }

  String body() {
    synchronized (body) {
      return body.toString(StandardCharsets.UTF_8);
    }
  }

  String awaitBody(Duration timeout) throws Exception {
    done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    return body();
  }

  /** A handler that does nothing, for streams that are never used. */
  static final class Noop extends ChannelInboundHandlerAdapter {}
}
