package dev.jitaccess.examples.quarkus;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.Test;

@QuarkusTest
final class AccessResourceTest {
  private static final String USER = AccessResource.USER_HEADER;
  private static final String GROUPS = AccessResource.GROUPS_HEADER;

  @Test
  void permittedRequestIsGrantedWithThePolicysPermissions() {
    given()
        .header(USER, "alice@example.com")
        .contentType(ContentType.JSON)
        .body("{\"cluster\": \"demo\"}")
        .when()
        .post("/access/requests")
        .then()
        .statusCode(201)
        .contentType(ContentType.JSON)
        .body("subject", equalTo("alice@example.com"))
        .body("cluster", equalTo("demo"))
        .body("permissions.clusterRole", containsInAnyOrder("edit", "view"))
        .body("permissions.find { it.clusterRole == 'edit' }.namespace", equalTo("shop"));
  }

  @Test
  void deniedRequestIs403WithTheReasonAsJson() {
    given()
        .header(USER, "bob@example.com")
        .contentType(ContentType.JSON)
        .body("{\"cluster\": \"demo\"}")
        .when()
        .post("/access/requests")
        .then()
        .statusCode(403)
        .contentType(ContentType.JSON)
        .body("error", equalTo("access_denied"))
        .body("message", equalTo("no binding allows bob@example.com on cluster demo"));
  }

  @Test
  void requestWithoutTheUserHeaderIs401() {
    given()
        .contentType(ContentType.JSON)
        .body("{\"cluster\": \"demo\"}")
        .when()
        .post("/access/requests")
        .then()
        .statusCode(401)
        .contentType(ContentType.JSON)
        .body("error", equalTo("unauthenticated"))
        .body("message", equalTo("send the X-Demo-User header naming the user (the demo's stand-in for login)"));
  }

  @Test
  void requestWithoutAClusterIs400() {
    given()
        .header(USER, "alice@example.com")
        .contentType(ContentType.JSON)
        .body("{}")
        .when()
        .post("/access/requests")
        .then()
        .statusCode(400)
        .body("error", equalTo("bad_request"))
        .body("message", equalTo("the body must name a cluster, e.g. {\"cluster\": \"demo\"}"));
  }

  @Test
  void grantsListsTheCallersActiveGrantsAndRevokeEndsThem() {
    String carol = "carol@example.com";
    given().header(USER, carol).contentType(ContentType.JSON).body("{\"cluster\": \"demo-2\"}")
        .post("/access/requests").then().statusCode(201);

    given().header(USER, carol).get("/access/grants").then()
        .statusCode(200)
        .body("cluster", containsInAnyOrder("demo-2"))
        .body("subject", containsInAnyOrder(carol));

    given().header(USER, carol).delete("/access/grants/" + carol).then().statusCode(204);

    given().header(USER, carol).get("/access/grants").then().statusCode(200).body("$", empty());
  }

  @Test
  void onlyAdminsMayRevokeSomeoneElse() {
    String alice = "alice@example.com";
    given().header(USER, alice).contentType(ContentType.JSON).body("{\"cluster\": \"demo\"}")
        .post("/access/requests").then().statusCode(201);

    given().header(USER, "bob@example.com").delete("/access/grants/" + alice).then()
        .statusCode(403)
        .body("error", equalTo("access_denied"))
        .body("message", equalTo("bob@example.com may revoke only their own grants (admins: anyone's)"));
    given().header(USER, "root@example.com").header(GROUPS, "admins").get("/access/grants").then()
        .statusCode(200)
        .body("subject", hasItem(alice));

    given().header(USER, "root@example.com").header(GROUPS, "ops, admins").delete("/access/grants/" + alice)
        .then().statusCode(204);

    given().header(USER, "root@example.com").header(GROUPS, "admins").get("/access/grants").then()
        .statusCode(200)
        .body("subject", not(hasItem(alice)));
  }
}
