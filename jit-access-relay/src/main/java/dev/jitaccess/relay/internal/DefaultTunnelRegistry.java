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
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay's live tunnels, filed under the cluster id from each agent's verified credential. A cluster may
 * have several tunnels (several agent replicas, and one connection per relay event loop from each agent). A
 * stream goes through a live tunnel on the caller's event loop when there is one (the user connection's loop:
 * then neither the request nor the answer crosses loops); otherwise the live tunnels take turns (round robin).
 * A tunnel that carries as many streams as its agent allows is skipped; when all are full the stream is refused
 * with a {@link TunnelsFullException}. A tunnel leaves the registry as soon as its channel closes.
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

  /**
   * The live tunnels of a cluster now (diagnostics and tests).
   *
   * @param cluster a cluster id
   * @return a snapshot, empty when none
   */
  public List<Channel> tunnels(String cluster) {
    return List.copyOf(live(cluster));
  }

  @Override
  public boolean isConnected(String cluster) {
    return !live(cluster).isEmpty();
  }

  /**
   * The tunnels that may carry a new request: open, and without a GOAWAY from their agent (an agent that is going
   * away refuses new streams; its connection ends once it has closed the streams it still has).
   */
  private List<Channel> live(String cluster) {
    List<Channel> all = tunnels.getOrDefault(cluster, List.of());
    List<Channel> live = new ArrayList<>(all.size());
    for (Channel channel : all) {
      if (channel.isActive() && !goingAway(channel)) {
        live.add(channel);
      }
    }
    return live;
  }

  private static boolean goingAway(Channel tunnel) {
    Http2Connection connection = connection(tunnel);
    return connection != null && connection.goAwayReceived();
  }

  private static @Nullable Http2Connection connection(Channel tunnel) {
    Http2FrameCodec codec = tunnel.pipeline().get(Http2FrameCodec.class);
    return codec == null ? null : codec.connection();
  }

  @Override
  public Future<Http2StreamChannel> openStream(String cluster, ChannelHandler handler) {
    List<Channel> all = tunnels.getOrDefault(cluster, List.of());
    List<Channel> withRoom = new ArrayList<>(all.size());
    int live = 0;
    int maxStreams = 0;
    for (Channel channel : all) {
      if (!channel.isActive()) {
        continue;
      }
      Http2Connection connection = connection(channel);
      if (connection != null && connection.goAwayReceived()) {
        continue; // its agent is going away
      }
      live++;
      if (connection == null || connection.local().canOpenStream()) {
        withRoom.add(channel);
      } else {
        maxStreams = connection.local().maxActiveStreams();
      }
    }
    if (live == 0) {
      return ImmediateEventExecutor.INSTANCE.newFailedFuture(
          new RelayException("cluster " + cluster + " has no connected agent"));
    }
    if (withRoom.isEmpty()) {
      return ImmediateEventExecutor.INSTANCE.newFailedFuture(new TunnelsFullException(cluster, live, maxStreams));
    }
    Channel tunnel = pick(withRoom);
    return new Http2StreamChannelBootstrap(tunnel).handler(handler).open();
  }

  /** A tunnel on the caller's event loop if any (round robin among several), else round robin among all. */
  private Channel pick(List<Channel> live) {
    @Nullable Channel local = null;
    int localCount = 0;
    for (Channel channel : live) {
      if (channel.eventLoop().inEventLoop()) {
        local = channel;
        localCount++;
      }
    }
    if (localCount == 1) {
      return local;
    }
    if (localCount > 1) {
      List<Channel> candidates = new ArrayList<>(localCount);
      for (Channel channel : live) {
        if (channel.eventLoop().inEventLoop()) {
          candidates.add(channel);
        }
      }
      live = candidates;
    }
    return live.get(Math.floorMod(next.getAndIncrement(), live.size()));
  }

  @Override
  public void revoke(String subjectId, @Nullable String cluster, @Nullable Instant revokedAt) {
    Objects.requireNonNull(subjectId, "subjectId");
    List<String> clusters = cluster == null ? List.copyOf(tunnels.keySet()) : List.of(cluster);
    for (String c : clusters) {
      // Every tunnel of the cluster gets the message (they may be different agent replicas); one agent's
      // tunnels recognise the copies by the shared id and act once.
      String messageId = UUID.randomUUID().toString();
      for (Channel tunnel : live(c)) {
        sendRevoke(tunnel, subjectId, c, messageId, revokedAt);
      }
    }
  }

  private static void sendRevoke(
      Channel tunnel, String subjectId, String cluster, String messageId, @Nullable Instant revokedAt) {
    QueryStringEncoder form = new QueryStringEncoder("");
    form.addParam("subject", subjectId);
    form.addParam("cluster", cluster);
    form.addParam("id", messageId);
    if (revokedAt != null) {
      form.addParam("at", revokedAt.toString());
    }
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
