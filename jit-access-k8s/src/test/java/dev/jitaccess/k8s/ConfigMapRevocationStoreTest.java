package dev.jitaccess.k8s;

import dev.jitaccess.testkit.MutableInstantSource;

import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.stubFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.verify;
import static com.github.tomakehurst.wiremock.stubbing.Scenario.STARTED;
import static dev.jitaccess.k8s.KubeStubs.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.junit5.WireMockRuntimeInfo;
import com.github.tomakehurst.wiremock.junit5.WireMockTest;
import dev.jitaccess.api.ProvisioningException;
import dev.jitaccess.k8s.internal.Names;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.util.ClientBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@WireMockTest
final class ConfigMapRevocationStoreTest {
  static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
  static final String CM_PATH = "/api/v1/namespaces/jit-access/configmaps";
  static final String CM = CM_PATH + "/jit-access-revocations";

  MutableInstantSource clock;
  ApiClient client;

  @BeforeEach
  void setUp(WireMockRuntimeInfo wm) {
    clock = MutableInstantSource.at(NOW);
    client = new ClientBuilder().setBasePath(wm.getHttpBaseUrl()).build();
  }

  ConfigMapRevocationStore store() {
    return ConfigMapRevocationStore.builder().apiClient(client).clock(clock).sleeper(new RecordingSleeper()).build();
  }

  static String key(String subjectId) {
    return Names.subjectHash(subjectId);
  }

  static String value(Instant revokedAt, Instant keepUntil, String subjectId) {
    return revokedAt + "|" + keepUntil + "|" + subjectId;
  }

  static V1ConfigMap configMap(String resourceVersion, Map<String, String> data) {
    return new V1ConfigMap()
        .metadata(
            new V1ObjectMeta()
                .name("jit-access-revocations")
                .namespace("jit-access")
                .resourceVersion(resourceVersion)
                .labels(Map.of("app.kubernetes.io/managed-by", "jit-access")))
        .data(data);
  }

  static V1ConfigMap lastBody(com.github.tomakehurst.wiremock.matching.RequestPatternBuilder pattern) {
    var requests = KubeStubs.requests(pattern);
    return KubeStubs.body(requests.get(requests.size() - 1), V1ConfigMap.class);
  }

  @Test
  void firstRecordCreatesTheLabelledConfigMapKeyedBySubjectHash() {
    stubFor(get(urlPathEqualTo(CM)).willReturn(KubeStubs.notFound()));
    stubFor(post(urlPathEqualTo(CM_PATH)).willReturn(json(201, configMap("1", Map.of()))));

    store().record("Alice@Example.com", NOW, NOW.plus(Duration.ofHours(24)));

    V1ConfigMap created = lastBody(postRequestedFor(urlPathEqualTo(CM_PATH)));
    assertThat(created.getMetadata().getName()).isEqualTo("jit-access-revocations");
    assertThat(created.getMetadata().getLabels()).containsEntry("app.kubernetes.io/managed-by", "jit-access");
    assertThat(created.getData())
        .containsExactly(
            Map.entry(key("Alice@Example.com"), value(NOW, NOW.plus(Duration.ofHours(24)), "Alice@Example.com")));
  }

  @Test
  void conflictingUpdateIsReadAgainAndMergedWithTheOtherWriter() {
    Instant bobAt = NOW.minusSeconds(60);
    Instant carolAt = NOW.minusSeconds(5);
    Map<String, String> v1 = Map.of(key("bob"), value(bobAt, NOW.plus(Duration.ofHours(1)), "bob"));
    Map<String, String> v2 =
        Map.of(
            key("bob"), value(bobAt, NOW.plus(Duration.ofHours(1)), "bob"),
            key("carol"), value(carolAt, NOW.plus(Duration.ofHours(1)), "carol"));
    stubFor(
        get(urlPathEqualTo(CM)).inScenario("cm").whenScenarioStateIs(STARTED)
            .willReturn(json(200, configMap("1", v1))));
    stubFor(
        put(urlPathEqualTo(CM)).inScenario("cm").whenScenarioStateIs(STARTED)
            .withRequestBody(matchingJsonPath("$.metadata.resourceVersion", equalTo("1")))
            .willReturn(KubeStubs.status(409, "Conflict", "the object has been modified"))
            .willSetStateTo("changed"));
    stubFor(
        get(urlPathEqualTo(CM)).inScenario("cm").whenScenarioStateIs("changed")
            .willReturn(json(200, configMap("2", v2))));
    stubFor(
        put(urlPathEqualTo(CM)).inScenario("cm").whenScenarioStateIs("changed")
            .withRequestBody(matchingJsonPath("$.metadata.resourceVersion", equalTo("2")))
            .willReturn(json(200, configMap("3", Map.of()))));

    store().record("alice", NOW, NOW.plus(Duration.ofHours(1)));

    verify(2, putRequestedFor(urlPathEqualTo(CM)));
    V1ConfigMap written = lastBody(putRequestedFor(urlPathEqualTo(CM)));
    assertThat(written.getMetadata().getResourceVersion()).isEqualTo("2");
    assertThat(written.getData())
        .containsOnlyKeys(key("alice"), key("bob"), key("carol"))
        .containsEntry(key("carol"), v2.get(key("carol")));
  }

  @Test
  void aNewInstanceLoadsWhatAnEarlierOneRecorded() {
    stubFor(get(urlPathEqualTo(CM)).willReturn(KubeStubs.notFound()));
    stubFor(post(urlPathEqualTo(CM_PATH)).willReturn(json(201, configMap("1", Map.of()))));
    Instant revokedAt = NOW.plusMillis(250);
    store().record("a|b ../weird id", revokedAt, NOW.plus(Duration.ofHours(1)));
    V1ConfigMap written = lastBody(postRequestedFor(urlPathEqualTo(CM_PATH)));

    // "Restart": a new instance reads what the cluster holds.
    stubFor(get(urlPathEqualTo(CM)).willReturn(json(200, configMap("1", written.getData()))));
    Map<String, Instant> loaded = store().load();

    assertThat(loaded).containsExactly(Map.entry("a|b ../weird id", revokedAt));
  }

  @Test
  void writingPurgesExpiredTombstonesAndLoadingSkipsThem() {
    Map<String, String> data =
        Map.of(
            key("old"), value(NOW.minus(Duration.ofDays(2)), NOW.minusSeconds(1), "old"),
            key("live"), value(NOW.minusSeconds(30), NOW.plus(Duration.ofHours(1)), "live"));
    stubFor(get(urlPathEqualTo(CM)).willReturn(json(200, configMap("7", data))));
    stubFor(put(urlPathEqualTo(CM)).willReturn(json(200, configMap("8", Map.of()))));

    assertThat(store().load()).containsOnlyKeys("live");
    store().record("new", NOW, NOW.plus(Duration.ofHours(1)));

    V1ConfigMap written = lastBody(putRequestedFor(urlPathEqualTo(CM)));
    assertThat(written.getData()).containsOnlyKeys(key("live"), key("new"));
  }

  @Test
  void duplicateOrOlderRevocationWritesNothingAndKeepsTheLaterTime() {
    Instant later = NOW.plusSeconds(10);
    Map<String, String> data = Map.of(key("alice"), value(later, NOW.plus(Duration.ofHours(2)), "alice"));
    stubFor(get(urlPathEqualTo(CM)).willReturn(json(200, configMap("4", data))));

    ConfigMapRevocationStore store = store();
    store.record("alice", NOW, NOW.plus(Duration.ofHours(1)));
    store.record("alice", later, NOW.plus(Duration.ofHours(2)));

    verify(0, putRequestedFor(urlPathEqualTo(CM)));
    assertThat(store.load()).containsExactly(Map.entry("alice", later));
  }

  @Test
  void tamperedEntriesAreIgnored() {
    Map<String, String> data =
        Map.of(
            key("mallory"), value(NOW, NOW.plus(Duration.ofHours(1)), "alice"),
            key("bob"), "not-a-time|x|bob");
    stubFor(get(urlPathEqualTo(CM)).willReturn(json(200, configMap("4", data))));

    assertThat(store().load()).isEmpty();
  }

  @Test
  void aConfigMapWithoutOurLabelIsNeitherReadNorWritten() {
    V1ConfigMap squatted = configMap("1", Map.of());
    squatted.getMetadata().setLabels(Map.of("app", "other"));
    stubFor(get(urlPathEqualTo(CM)).willReturn(json(200, squatted)));

    assertThatThrownBy(() -> store().record("alice", NOW, NOW.plusSeconds(60)))
        .isInstanceOf(ProvisioningException.class)
        .hasMessageContaining("not labelled app.kubernetes.io/managed-by=jit-access");
    assertThatThrownBy(() -> store().load()).isInstanceOf(ProvisioningException.class);
    verify(0, putRequestedFor(urlPathEqualTo(CM)));
  }

  @Test
  void givesUpAfterRepeatedConflicts() {
    stubFor(get(urlPathEqualTo(CM)).willReturn(json(200, configMap("1", Map.of()))));
    stubFor(put(urlPathEqualTo(CM)).willReturn(KubeStubs.status(409, "Conflict", "modified")));

    assertThatThrownBy(() -> store().record("alice", NOW, NOW.plusSeconds(60)))
        .isInstanceOfSatisfying(
            ProvisioningException.class, e -> assertThat(e.isRetryable()).isTrue())
        .hasMessageContaining("5 times");
    verify(ConfigMapRevocationStore.MAX_CONFLICTS, putRequestedFor(urlPathEqualTo(CM)));
  }

  @Test
  void builderChecksItsInput() {
    assertThatThrownBy(() -> ConfigMapRevocationStore.builder().name("Bad_Name"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Bad_Name");
    assertThatThrownBy(() -> store().record("alice", NOW, NOW.minusSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("keepUntil");
    assertThat(List.of(store().toString())).singleElement().asString().contains("jit-access/jit-access-revocations");
  }
}
