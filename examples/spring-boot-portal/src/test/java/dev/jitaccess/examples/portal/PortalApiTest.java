package dev.jitaccess.examples.portal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.delete;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.get;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.post;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jitaccess.api.Grant;
import dev.jitaccess.api.Permission;
import dev.jitaccess.core.JitAccess;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.autoconfigure.web.servlet.AutoConfigureMockMvc;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.MvcResult;
import org.springframework.test.web.servlet.request.MockHttpServletRequestBuilder;

/** Every endpoint of the portal's API through MockMvc, on one application context (relay disabled). */
@SpringBootTest(
    properties = {
      "jitaccess.policy-file=src/test/resources/test-policy.yaml",
      "jitaccess.audit.file=target/portal-api-test-audit.jsonl",
      "jitaccess.audit.log=false",
      "portal.clusters=dev,prod,staging"
    })
@AutoConfigureMockMvc
final class PortalApiTest {
  @Autowired MockMvc mvc;
  @Autowired ObjectMapper json;
  @Autowired JitAccess jit;

  // ------------------------------------------------------------------------------------------ grants

  @Test
  void requestAccessGrantsForTheRequestedDurationAndListsIt() throws Exception {
    JsonNode grant =
        expect(
            HttpStatus.CREATED,
            call(post("/api/access"), "ann", "dev", Map.of("cluster", "dev", "justification", "debug", "duration", "30m")));
    assertThat(grant.get("subject").asText()).isEqualTo("ann");
    assertThat(grant.get("cluster").asText()).isEqualTo("dev");
    assertThat(grant.at("/permissions/0/clusterRole").asText()).isEqualTo("view");
    List<Grant> grants = jit.activeGrants("ann");
    assertThat(grants).singleElement().satisfies(g -> assertThat(g.lifetime()).isEqualTo(Duration.ofMinutes(30)));

    JsonNode mine = expect(HttpStatus.OK, call(get("/api/grants"), "ann", "dev", null));
    assertThat(texts(mine, "id")).containsExactly(grants.get(0).id());
  }

  @Test
  void requestDeniedByPolicyIs403WithTheReason() throws Exception {
    JsonNode error =
        expect(
            HttpStatus.FORBIDDEN,
            call(post("/api/access"), "mallory", "", Map.of("cluster", "prod", "justification", "curious")));
    assertThat(error.get("error").asText()).isEqualTo("forbidden");
    assertThat(error.get("message").asText()).contains("no binding allows mallory");
    assertThat(jit.activeGrants("mallory")).isEmpty();
  }

  @Test
  void unknownClusterIs400NamingTheKnownOnes() throws Exception {
    JsonNode error =
        expect(
            HttpStatus.BAD_REQUEST,
            call(post("/api/access"), "ann", "dev", Map.of("cluster", "nope", "justification", "x")));
    assertThat(error.get("error").asText()).isEqualTo("bad_request");
    assertThat(error.get("message").asText())
        .isEqualTo("unknown cluster 'nope'; known clusters: [dev, prod, staging]");
  }

  @Test
  void durationAboveTheMaximumIs400() throws Exception {
    JsonNode error =
        expect(
            HttpStatus.BAD_REQUEST,
            call(post("/api/access"), "ann", "dev", Map.of("cluster", "dev", "justification", "x", "duration", "2h")));
    assertThat(error.get("message").asText()).isEqualTo("duration PT2H exceeds the maximum PT1H; ask for less");
  }

  @Test
  void missingJustificationIs400() throws Exception {
    JsonNode error =
        expect(HttpStatus.BAD_REQUEST, call(post("/api/access"), "ann", "dev", Map.of("cluster", "dev", "duration", "10m")));
    assertThat(error.get("message").asText()).startsWith("justification is required");
  }

  @Test
  void malformedDurationAndMalformedJsonAre400() throws Exception {
    JsonNode error =
        expect(
            HttpStatus.BAD_REQUEST,
            call(post("/api/access"), "ann", "dev", Map.of("cluster", "dev", "justification", "x", "duration", "soon")));
    assertThat(error.get("message").asText()).isEqualTo("duration 'soon' is not a duration; write 30m, 1h or PT1H");

    MvcResult malformed =
        mvc.perform(
                post("/api/access")
                    .header("X-Demo-User", "ann")
                    .contentType(MediaType.APPLICATION_JSON)
                    .content("{not json"))
            .andReturn();
    assertThat(expect(HttpStatus.BAD_REQUEST, malformed).get("error").asText()).isEqualTo("bad_request");
  }

  @Test
  void callerWithoutDemoUserIs401() throws Exception {
    JsonNode error = expect(HttpStatus.UNAUTHORIZED, mvc.perform(get("/api/grants")).andReturn());
    assertThat(error.get("error").asText()).isEqualTo("unauthenticated");
    assertThat(error.get("message").asText()).contains("X-Demo-User");
  }

  @Test
  void revokingMyGrantEndsItAtOnce() throws Exception {
    grant("bea", "dev");
    assertThat(call(delete("/api/grants/dev"), "bea", "dev", null).getResponse().getStatus()).isEqualTo(204);
    assertThat(jit.activeGrants("bea")).isEmpty();
    assertThat(expect(HttpStatus.OK, call(get("/api/grants"), "bea", "dev", null))).isEmpty();
  }

  @Test
  void adminRevokesAnyonesAccess() throws Exception {
    grant("cid", "dev");
    grant("cid", "prod");
    assertThat(call(delete("/api/admin/grants/cid"), "root", "admins", null).getResponse().getStatus()).isEqualTo(204);
    assertThat(jit.activeGrants("cid")).isEmpty();
  }

  @Test
  void adminRevokesOneClusterOnly() throws Exception {
    grant("cy", "dev");
    grant("cy", "prod");
    assertThat(call(delete("/api/admin/grants/cy?cluster=prod"), "root", "admins", null).getResponse().getStatus())
        .isEqualTo(204);
    assertThat(jit.activeGrants("cy")).extracting(Grant::cluster).containsExactly("dev");
  }

  @Test
  void nonAdminCannotRevokeSomeoneElse() throws Exception {
    grant("dan", "dev");
    JsonNode error = expect(HttpStatus.FORBIDDEN, call(delete("/api/admin/grants/dan"), "eve", "dev", null));
    assertThat(error.get("message").asText())
        .isEqualTo("only members of 'admins' may revoke someone else's access; eve is not");
    assertThat(jit.activeGrants("dan")).hasSize(1);
  }

  @Test
  void kubeconfigWithoutTheRelayIs404SayingHowToEnableIt() throws Exception {
    JsonNode error = expect(HttpStatus.NOT_FOUND, call(get("/api/kubeconfig/dev"), "ann", "dev", null));
    assertThat(error.get("message").asText()).contains("jitaccess.relay.enabled=true");
  }

  @Test
  void auditTrailShowsUsersTheirOwnEventsAndAdminsEveryone() throws Exception {
    grant("fay", "dev");
    grant("gus", "dev");
    JsonNode own = expect(HttpStatus.OK, call(get("/api/audit"), "fay", "dev", null));
    assertThat(texts(own, "subject")).isNotEmpty().containsOnly("fay");
    assertThat(texts(own, "type")).contains("GRANTED");

    JsonNode all = expect(HttpStatus.OK, call(get("/api/audit?limit=1000"), "root", "admins", null));
    assertThat(texts(all, "subject")).contains("fay", "gus");
    expect(HttpStatus.BAD_REQUEST, call(get("/api/audit?limit=0"), "root", "admins", null));
  }

  @Test
  void unknownEndpointIs404WithAJsonBody() throws Exception {
    JsonNode error = expect(HttpStatus.NOT_FOUND, call(get("/api/nothing-here"), "ann", "dev", null));
    assertThat(error.get("error").asText()).isEqualTo("not_found");
  }

  @Test
  void thePageIsServed() throws Exception {
    MvcResult page = mvc.perform(get("/index.html")).andReturn();
    assertThat(page.getResponse().getStatus()).isEqualTo(200);
    assertThat(page.getResponse().getContentAsString()).contains("/api/requests", "X-Demo-User");
  }

  // ------------------------------------------------------------------------------------------ requests

  @Test
  void approvedRequestActivatesAndItsPermissionsAreGranted() throws Exception {
    String id = createRequest("hal", "JIRA-7 payments outage", "1h");
    assertThat(texts(expect(HttpStatus.OK, call(get("/api/requests"), "hal", "dev", null)), "id")).containsExactly(id);
    assertThat(texts(expect(HttpStatus.OK, call(get("/api/requests/review"), "sam", "sre", null)), "id")).contains(id);

    JsonNode approved =
        expect(HttpStatus.OK, call(post("/api/requests/" + id + "/approve"), "sam", "sre", Map.of("comment", "ok")));
    assertThat(approved.get("status").asText()).isEqualTo("ACTIVE");
    assertThat(approved.at("/reviews/0/reviewer").asText()).isEqualTo("sam");
    assertThat(approved.at("/reviews/0/verdict").asText()).isEqualTo("APPROVE");

    grant("hal", "prod");
    assertThat(jit.activeGrants("hal"))
        .singleElement()
        .satisfies(g -> assertThat(g.permissions()).contains(Permission.clusterWide("edit")));
  }

  @Test
  void deniedRequestEndsAndNeedsAReason() throws Exception {
    String id = createRequest("ivy", "JIRA-8 cleanup", null);
    JsonNode noReason = expect(HttpStatus.BAD_REQUEST, call(post("/api/requests/" + id + "/deny"), "sam", "sre", Map.of()));
    assertThat(noReason.get("message").asText()).contains("needs a reason");

    JsonNode denied =
        expect(
            HttpStatus.OK,
            call(post("/api/requests/" + id + "/deny"), "sam", "sre", Map.of("comment", "use staging")));
    assertThat(denied.get("status").asText()).isEqualTo("DENIED");
    assertThat(denied.at("/reviews/0/comment").asText()).isEqualTo("use staging");

    JsonNode late = expect(HttpStatus.CONFLICT, call(post("/api/requests/" + id + "/approve"), "sue", "sre", null));
    assertThat(late.get("error").asText()).isEqualTo("conflict");
  }

  @Test
  void requesterCannotApproveTheirOwnRequest() throws Exception {
    String id = createRequest("jo", "JIRA-9", null);
    JsonNode error = expect(HttpStatus.FORBIDDEN, call(post("/api/requests/" + id + "/approve"), "jo", "dev,sre", null));
    assertThat(error.get("error").asText()).isEqualTo("forbidden");
  }

  @Test
  void reviewerWithoutTheRightIs403() throws Exception {
    String id = createRequest("kim", "JIRA-10", null);
    expect(HttpStatus.FORBIDDEN, call(post("/api/requests/" + id + "/approve"), "lee", "dev", null));
  }

  @Test
  void unknownRequestIs404() throws Exception {
    JsonNode error = expect(HttpStatus.NOT_FOUND, call(post("/api/requests/no-such-id/approve"), "sam", "sre", null));
    assertThat(error.get("message").asText()).contains("unknown access request 'no-such-id'");
  }

  @Test
  void badRequestInputIs400() throws Exception {
    JsonNode pattern =
        expect(
            HttpStatus.BAD_REQUEST,
            call(post("/api/requests"), "max", "dev", Map.of("cluster", "prod", "justification", "no ticket")));
    assertThat(pattern.get("message").asText()).contains("JIRA");
    JsonNode tooLong =
        expect(
            HttpStatus.BAD_REQUEST,
            call(
                post("/api/requests"),
                "max",
                "dev",
                Map.of("cluster", "prod", "justification", "JIRA-1", "duration", "3h")));
    assertThat(tooLong.get("message").asText()).contains("exceeds the maximum");
    expect(
        HttpStatus.BAD_REQUEST,
        call(post("/api/requests"), "max", "dev", Map.of("cluster", "nope", "justification", "JIRA-1")));
    JsonNode noJustification =
        expect(HttpStatus.BAD_REQUEST, call(post("/api/requests"), "max", "dev", Map.of("cluster", "prod")));
    assertThat(noJustification.get("message").asText()).startsWith("justification is required");
  }

  @Test
  void requestForANonEligibleRoleIs403() throws Exception {
    expect(
        HttpStatus.FORBIDDEN,
        call(post("/api/requests"), "ned", "", Map.of("cluster", "prod", "justification", "JIRA-1")));
  }

  @Test
  void requesterCancelsAPendingRequest() throws Exception {
    String id = createRequest("oz", "JIRA-11", null);
    JsonNode cancelled = expect(HttpStatus.OK, call(delete("/api/requests/" + id), "oz", "dev", null));
    assertThat(cancelled.get("status").asText()).isEqualTo("CANCELLED");
    assertThat(texts(expect(HttpStatus.OK, call(get("/api/requests/review"), "sam", "sre", null)), "id"))
        .doesNotContain(id);
  }

  // ------------------------------------------------------------------------------------------ helpers

  private void grant(String user, String cluster) throws Exception {
    expect(
        HttpStatus.CREATED,
        call(post("/api/access"), user, "dev", Map.of("cluster", cluster, "justification", "test")));
  }

  private String createRequest(String user, String justification, String duration) throws Exception {
    Map<String, Object> body =
        duration == null
            ? Map.of("cluster", "prod", "roles", List.of("operator"), "justification", justification)
            : Map.of(
                "cluster", "prod", "roles", List.of("operator"), "justification", justification, "duration", duration);
    JsonNode created = expect(HttpStatus.CREATED, call(post("/api/requests"), user, "dev", body));
    assertThat(created.get("status").asText()).isEqualTo("PENDING");
    assertThat(created.get("requiredApprovals").asInt()).isEqualTo(1);
    return created.get("id").asText();
  }

  private MvcResult call(MockHttpServletRequestBuilder request, String user, String groups, Object body)
      throws Exception {
    request.header("X-Demo-User", user).header("X-Demo-Groups", groups);
    if (body != null) {
      request.contentType(MediaType.APPLICATION_JSON).content(json.writeValueAsString(body));
    }
    return mvc.perform(request).andReturn();
  }

  private JsonNode expect(HttpStatus status, MvcResult result) throws Exception {
    String body = result.getResponse().getContentAsString();
    assertThat(result.getResponse().getStatus()).as(body).isEqualTo(status.value());
    assertThat(result.getResponse().getContentType()).startsWith(MediaType.APPLICATION_JSON_VALUE);
    return json.readTree(body);
  }

  private static List<String> texts(JsonNode array, String field) {
    assertThat(array.isArray()).as("%s is an array", array).isTrue();
    return StreamSupport.stream(array.spliterator(), false).map(n -> n.path(field).asText()).toList();
  }
}
