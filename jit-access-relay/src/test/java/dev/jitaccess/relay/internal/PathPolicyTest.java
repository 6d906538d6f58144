package dev.jitaccess.relay.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.handler.codec.http.HttpResponseStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

final class PathPolicyTest {

  @Test
  void forwardedTargetIsTheSentTargetMinusThePrefix() throws Exception {
    String sent = "/clusters/prod/api/v1/namespaces/a-b/pods?labelSelector=app%3Dweb%2Cx&limit=500";

    PathPolicy.Route route = PathPolicy.route(sent);

    assertThat(route.cluster()).isEqualTo("prod");
    assertThat(route.path()).isEqualTo("/api/v1/namespaces/a-b/pods");
    assertThat("/clusters/prod" + route.target()).isEqualTo(sent);
  }

  @Test
  void clusterRootRoutesToSlash() throws Exception {
    assertThat(PathPolicy.route("/clusters/prod").target()).isEqualTo("/");
    assertThat(PathPolicy.route("/clusters/prod?x=1").target()).isEqualTo("/?x=1");
  }

  @ParameterizedTest
  @ValueSource(strings = {"/clusters/prod/a/%2E/b", "/clusters/prod/a%2f..", "/clusters/prod/%25", "/clusters/prod/a%5c", "/clusters/prod/a%7F", "/clusters/prod/a%2", "/clusters/prod/a#frag", "clusters/prod/a", "http://evil/clusters/prod/a", "/clusters/prod/a b", "/clusters/prod/a\t"})
  void refusesAmbiguousTargets(String target) {
    assertThatThrownBy(() -> PathPolicy.route(target))
        .isInstanceOfSatisfying(HttpStatusException.class, e -> assertThat(e.status()).isEqualTo(HttpResponseStatus.BAD_REQUEST));
  }

  @ParameterizedTest
  @ValueSource(strings = {"/", "/api", "/clusters", "/clusters/", "/healthz"})
  void targetsOutsideClustersAreNotFound(String target) {
    assertThatThrownBy(() -> PathPolicy.route(target))
        .isInstanceOfSatisfying(HttpStatusException.class, e -> assertThat(e.status().code()).isIn(400, 404));
  }
}
