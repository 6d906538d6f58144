package dev.jitaccess.k8s;

import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.stubFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.verify;
import static dev.jitaccess.k8s.KubeStubs.body;
import static dev.jitaccess.k8s.KubeStubs.json;
import static dev.jitaccess.k8s.KubeStubs.requests;
import static dev.jitaccess.k8s.KubernetesAccountProvisionerTest.ALICE;
import static dev.jitaccess.k8s.KubernetesAccountProvisionerTest.T0;
import static dev.jitaccess.k8s.KubernetesAccountProvisionerTest.VIEW_ALL;
import static dev.jitaccess.k8s.KubernetesAccountProvisionerTest.grant;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.junit5.WireMockRuntimeInfo;
import com.github.tomakehurst.wiremock.junit5.WireMockTest;
import dev.jitaccess.api.Grant;
import dev.jitaccess.api.ProvisionedAccount;
import dev.jitaccess.testkit.MutableInstantSource;
import io.kubernetes.client.openapi.models.AuthenticationV1TokenRequest;
import io.kubernetes.client.util.ClientBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * SECURITY 25, the longer case (the shorter one is
 * KubernetesAccountProvisionerTest#shorterTokenExpiryThanAskedIsUsedAndRefreshedBeforeIt): Kubernetes may
 * issue a token that lives longer than asked ("The server may return a token with a longer or shorter
 * expiration", TokenRequestSpec); Builder#tokenTtl documents that the real expiry is used. So the caller is
 * told the real expiry, and the refresh is scheduled from the token's real life, not from the asked TTL.
 */
@WireMockTest
final class TokenExpiryFromTheServerTest {

  @Test
  void longerTokenExpiryThanAskedIsTheOneReportedAndRefreshIsJudgedByIt(WireMockRuntimeInfo wm) {
    MutableInstantSource clock = MutableInstantSource.at(T0);
    Instant real = T0.plus(Duration.ofHours(2)); // asked: 600 s
    KubeStubs.stubFirstProvision(ALICE, "tok-long", real);
    KubernetesAccountProvisioner provisioner =
        KubernetesAccountProvisioner.builder()
            .apiClient(new ClientBuilder().setBasePath(wm.getHttpBaseUrl()).build())
            .allowedClusterRoles(Set.of("view"))
            .clock(clock)
            .sleeper(new RecordingSleeper())
            .build();
    Grant grant = grant("g-1", ALICE, VIEW_ALL);
    String tokenPath = KubeStubs.tokenPath(KubeStubs.saName(ALICE));

    ProvisionedAccount first = provisioner.ensure(grant);

    AuthenticationV1TokenRequest asked =
        body(requests(postRequestedFor(urlPathEqualTo(tokenPath))).get(0), AuthenticationV1TokenRequest.class);
    assertThat(asked.getSpec().getExpirationSeconds()).isEqualTo(600L);
    assertThat(first.token()).isEqualTo("tok-long");
    assertThat(first.tokenExpiresAt()).isEqualTo(real);

    stubFor(
        post(urlPathEqualTo(tokenPath))
            .willReturn(
                json(201, KubeStubs.tokenAnswer(ALICE, "tok-next", 600, T0.plus(Duration.ofHours(3))))));
    // Past the asked 10 minutes (a refresh judged by the asked TTL would have come at 8 minutes), and with
    // 25 of the real 120 minutes left, the token is still handed out with its real expiry.
    for (Duration at : new Duration[] {Duration.ofMinutes(9), Duration.ofMinutes(11), Duration.ofMinutes(95)}) {
      clock.set(T0.plus(at));
      ProvisionedAccount cached = provisioner.ensure(grant);
      assertThat(cached.token()).as("at +%s", at).isEqualTo("tok-long");
      assertThat(cached.tokenExpiresAt()).isEqualTo(real);
    }
    verify(1, postRequestedFor(urlPathEqualTo(tokenPath)));

    clock.set(T0.plus(Duration.ofMinutes(97))); // 23 minutes left < a fifth of the real life (24 minutes)
    ProvisionedAccount refreshed = provisioner.ensure(grant);

    assertThat(refreshed.token()).isEqualTo("tok-next");
    assertThat(refreshed.tokenExpiresAt()).isEqualTo(T0.plus(Duration.ofHours(3)));
    verify(2, postRequestedFor(urlPathEqualTo(tokenPath)));
  }
}
