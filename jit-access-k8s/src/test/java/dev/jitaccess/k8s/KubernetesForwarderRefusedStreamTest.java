package dev.jitaccess.k8s;

import static dev.jitaccess.k8s.Fixtures.SA_TOKEN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.jitaccess.api.ForwardRequest;
import dev.jitaccess.api.ForwardResponse;
import dev.jitaccess.api.RelayException;
import io.kubernetes.client.openapi.ApiClient;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.Protocol;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An HTTP/2 (prior knowledge, cleartext) stub that resets the first N streams with a chosen error code and answers
 * the rest with 200: a stream refused with {@code REFUSED_STREAM} (never processed) is sent again, nothing else is.
 */
final class KubernetesForwarderRefusedStreamTest {
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final AtomicInteger streams = new AtomicInteger();

  @AfterEach
  void stop() {
    group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
  }

  /** Starts the stub; returns the forwarder pointing at it. */
  private KubernetesForwarder stubResetting(int resets, Http2Error error) throws InterruptedException {
    Channel server =
        new ServerBootstrap()
            .group(group)
            .channel(NioServerSocketChannel.class)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.pipeline()
                        .addLast(Http2FrameCodecBuilder.forServer().build())
                        .addLast(new Http2MultiplexHandler(new StreamHandler(resets, error)));
                  }
                })
            .bind("127.0.0.1", 0)
            .sync()
            .channel();
    int port = ((InetSocketAddress) server.localAddress()).getPort();
    ApiClient apiClient = new ApiClient().setBasePath("http://127.0.0.1:" + port);
    apiClient.setHttpClient(
        apiClient.getHttpClient().newBuilder().protocols(List.of(Protocol.H2_PRIOR_KNOWLEDGE)).build());
    return KubernetesForwarder.builder().apiClient(apiClient).build();
  }

  private final class StreamHandler extends ChannelInboundHandlerAdapter {
    private final int resets;
    private final Http2Error error;

    StreamHandler(int resets, Http2Error error) {
      this.resets = resets;
      this.error = error;
    }

    @Override
    public boolean isSharable() {
      return true;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof Http2HeadersFrame) {
          if (streams.incrementAndGet() <= resets) {
            ctx.writeAndFlush(new DefaultHttp2ResetFrame(error));
          } else {
            ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")));
            ctx.writeAndFlush(
                new DefaultHttp2DataFrame(Unpooled.copiedBuffer("{\"kind\":\"NamespaceList\"}", StandardCharsets.UTF_8), true));
          }
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }
  }

  private static ForwardRequest get() {
    return ForwardRequest.of("GET", "/api/v1/namespaces", Map.of());
  }

  @Test
  void aBodylessRequestRefusedWithRefusedStreamIsSentAgain() throws Exception {
    KubernetesForwarder forwarder = stubResetting(2, Http2Error.REFUSED_STREAM);

    try (ForwardResponse response = forwarder.forward(get(), SA_TOKEN)) {
      assertThat(response.status()).isEqualTo(200);
      assertThat(new String(response.body().readAllBytes(), StandardCharsets.UTF_8)).contains("NamespaceList");
    }
    assertThat(streams).hasValue(3);
  }

  @Test
  void refusalsBeyondTheRetryLimitFail() throws Exception {
    KubernetesForwarder forwarder = stubResetting(100, Http2Error.REFUSED_STREAM);

    assertThatThrownBy(() -> forwarder.forward(get(), SA_TOKEN)).isInstanceOf(RelayException.class);
    assertThat(streams).hasValue(4); // the first try and three more
  }

  @Test
  void aStreamResetForAnyOtherReasonIsNotRetried() throws Exception {
    KubernetesForwarder forwarder = stubResetting(1, Http2Error.INTERNAL_ERROR);

    assertThatThrownBy(() -> forwarder.forward(get(), SA_TOKEN)).isInstanceOf(RelayException.class);
    assertThat(streams).hasValue(1);
  }

  @Test
  void aRequestWithABodyIsNotRetriedEvenWhenRefused() throws Exception {
    KubernetesForwarder forwarder = stubResetting(1, Http2Error.REFUSED_STREAM);
    byte[] json = "{\"kind\":\"Namespace\"}".getBytes(StandardCharsets.UTF_8);
    ForwardRequest create =
        new ForwardRequest(
            "POST",
            "/api/v1/namespaces",
            Map.of("Content-Type", List.of("application/json")),
            new ByteArrayInputStream(json),
            json.length);

    assertThatThrownBy(() -> forwarder.forward(create, SA_TOKEN)).isInstanceOf(RelayException.class);
    assertThat(streams).hasValue(1);
  }
}
