package dev.jitaccess.relay;

import dev.jitaccess.relay.internal.TunnelProtocol;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A hand-driven agent: performs the connect handshake with chosen headers and SNI, then stays silent (it
 * never speaks HTTP/2), like a hung or hostile agent.
 */
final class RawTestAgent implements AutoCloseable {
  private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  final CompletableFuture<Integer> status = new CompletableFuture<>();
  private Channel channel;

  RawTestAgent(SslContext tls, String sniHost, int port, Map<String, String> headers) {
    channel =
        new Bootstrap()
            .group(group)
            .channel(NioSocketChannel.class)
            .handler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.pipeline()
                        .addLast(tls.newHandler(ch.alloc(), sniHost, port))
                        .addLast(new HttpClientCodec())
                        .addLast(
                            new SimpleChannelInboundHandler<Object>() {
                              @Override
                              protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
                                if (msg instanceof HttpResponse response) {
                                  status.complete(response.status().code());
                                }
                              }

                              @Override
                              public void channelInactive(ChannelHandlerContext ctx) {
                                status.complete(-1);
                              }
                            });
                  }
                })
            .connect("127.0.0.1", port)
            .syncUninterruptibly()
            .channel();
    DefaultFullHttpRequest request =
        new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, TunnelProtocol.CONNECT_PATH);
    request.headers().set("host", sniHost).set("connection", "Upgrade").set("upgrade", TunnelProtocol.UPGRADE_TOKEN);
    headers.forEach(request.headers()::set);
    channel.writeAndFlush(request);
  }

  int awaitStatus() throws Exception {
    return status.get(5, TimeUnit.SECONDS);
  }

  boolean isOpen() {
    return channel.isOpen();
  }

  @Override
  public void close() {
    channel.close();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
