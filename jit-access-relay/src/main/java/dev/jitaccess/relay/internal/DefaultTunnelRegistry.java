package dev.jitaccess.relay.internal;

import dev.jitaccess.api.RelayException;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpScheme;
import io.netty.handler.codec.http.QueryStringEncoder;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay's live tunnels, filed under the cluster id from each agent's verified credential. A cluster may
 * have several tunnels (several agent replicas or connections); streams are spread over the live ones round
 * robin, and a tunnel leaves the registry as soon as its channel closes.
 *
 * <p>Thread-safe.
 */
public final class DefaultTunnelRegistry implements TunnelRegistry {
  private static final Logger log = LoggerFactory.getLogger(DefaultTunnelRegistry.class);

  private final Map<String, List<Channel>> tunnels = new ConcurrentHashMap<>();
  private final AtomicInteger next = new AtomicInteger();

  /**
   * Files a tunnel under a verified cluster id; it is removed again when it closes.
   *
   * @param cluster the cluster id from the verified agent credential
   * @param tunnel the tunnel's channel, already speaking HTTP/2 as the client
   */
  public void register(String cluster, Channel tunnel) {
    Objects.requireNonNull(cluster, "cluster");
    tunnels.computeIfAbsent(cluster, c -> new CopyOnWriteArrayList<>()).add(tunnel);
    tunnel.closeFuture().addListener(f -> remove(cluster, tunnel));
    if (!tunnel.isOpen()) {
      remove(cluster, tunnel);
    }
  }

  private void remove(String cluster, Channel tunnel) {
    tunnels.computeIfPresent(
        cluster,
        (c, list) -> {
          list.remove(tunnel);
          return list.isEmpty() ? null : list;
        });
    log.debug("Tunnel {} for cluster {} closed", tunnel.id(), cluster);
  }

  /**
   * How many live tunnels a cluster has.
   *
   * @param cluster a cluster id
   * @return the count, 0 when none
   */
  public int tunnelCount(String cluster) {
    return live(cluster).size();
  }

  @Override
  public boolean isConnected(String cluster) {
    return !live(cluster).isEmpty();
  }

  private List<Channel> live(String cluster) {
    List<Channel> all = tunnels.getOrDefault(cluster, List.of());
    List<Channel> live = new ArrayList<>(all.size());
    for (Channel channel : all) {
      if (channel.isActive()) {
        live.add(channel);
      }
    }
    return live;
  }

  @Override
  public Future<Http2StreamChannel> openStream(String cluster, ChannelHandler handler) {
    List<Channel> live = live(cluster);
    if (live.isEmpty()) {
      return ImmediateEventExecutor.INSTANCE.newFailedFuture(
          new RelayException("cluster " + cluster + " has no connected agent"));
    }
    Channel tunnel = live.get(Math.floorMod(next.getAndIncrement(), live.size()));
    return new Http2StreamChannelBootstrap(tunnel).handler(handler).open();
  }

  @Override
  public void revoke(String subjectId, @Nullable String cluster) {
    Objects.requireNonNull(subjectId, "subjectId");
    List<String> clusters = cluster == null ? List.copyOf(tunnels.keySet()) : List.of(cluster);
    for (String c : clusters) {
      for (Channel tunnel : live(c)) {
        sendRevoke(tunnel, subjectId, c);
      }
    }
  }

  private static void sendRevoke(Channel tunnel, String subjectId, String cluster) {
    QueryStringEncoder form = new QueryStringEncoder("");
    form.addParam("subject", subjectId);
    form.addParam("cluster", cluster);
    byte[] body = form.toString().substring(1).getBytes(StandardCharsets.UTF_8);
    Http2Headers headers =
        new DefaultHttp2Headers()
            .method("POST")
            .path(TunnelProtocol.REVOKE_PATH)
            .scheme(HttpScheme.HTTPS.name())
            .authority("jit-agent")
            .set("content-type", "application/x-www-form-urlencoded")
            .setInt("content-length", body.length);
    new Http2StreamChannelBootstrap(tunnel)
        .handler(new RevokeAnswerHandler(cluster))
        .open()
        .addListener(
            f -> {
              if (!f.isSuccess()) {
                log.warn("Could not send a revoke to cluster {}: {}", cluster, f.cause().toString());
                return;
              }
              Channel stream = (Channel) f.getNow();
              stream.write(new DefaultHttp2HeadersFrame(headers));
              stream.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(body), true));
            });
  }

  /** Reads the agent's answer to a revoke and closes the stream. */
  private static final class RevokeAnswerHandler extends ChannelInboundHandlerAdapter {
    private final String cluster;

    RevokeAnswerHandler(String cluster) {
      this.cluster = cluster;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof Http2HeadersFrame headers) {
          CharSequence status = headers.headers().status();
          if (status == null || !"200".contentEquals(status)) {
            log.warn("Agent of cluster {} answered a revoke with status {}", cluster, status);
          }
          if (headers.isEndStream()) {
            ctx.close();
          }
        } else if (msg instanceof Http2DataFrame data && data.isEndStream()) {
          ctx.close();
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }
  }
}
