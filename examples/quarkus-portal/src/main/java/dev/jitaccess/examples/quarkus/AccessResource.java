package dev.jitaccess.examples.quarkus;

import dev.jitaccess.api.AccessDeniedException;
import dev.jitaccess.api.Grant;
import dev.jitaccess.api.Subject;
import dev.jitaccess.core.JitAccess;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Arrays;
import java.util.List;

/**
 * Request access, list active grants, revoke. The caller is named by the {@code X-Demo-User} header (and
 * {@code X-Demo-Groups}, comma-separated): a stand-in for the host application's real authentication. Members
 * of {@code admins} may list and revoke anyone's grants.
 */
@Path("/access")
@Produces(MediaType.APPLICATION_JSON)
public class AccessResource {
  /** The header naming the demo user. */
  public static final String USER_HEADER = "X-Demo-User";

  /** The header listing the demo user's groups, comma-separated. */
  public static final String GROUPS_HEADER = "X-Demo-Groups";

  static final String ADMINS = "admins";

  @Inject JitAccess jit;
  @Inject JitAccessConfig config;

  /**
   * Issues a session token for the caller (as the portal would put into a kubeconfig) and authorizes it for
   * the cluster: the engine authenticates it, evaluates the policy and returns the grant.
   *
   * @param user the caller
   * @param groups the caller's groups
   * @param body the cluster
   * @return 201 with the grant; 403 with the reason when the policy denies
   */
  @POST
  @Path("/requests")
  @Consumes(MediaType.APPLICATION_JSON)
  public Response request(
      @HeaderParam(USER_HEADER) String user, @HeaderParam(GROUPS_HEADER) String groups, AccessRequestBody body) {
    Subject subject = caller(user, groups);
    if (body == null || body.cluster() == null || body.cluster().isBlank()) {
      throw new BadRequest("the body must name a cluster, e.g. {\"cluster\": \"demo\"}");
    }
    String token = jit.issueSessionToken(subject, config.sessionTokenTtl());
    Grant grant = jit.authorize(token, body.cluster().trim());
    return Response.status(Response.Status.CREATED).entity(GrantView.of(grant)).build();
  }

  /**
   * The caller's active grants; for {@code admins}, everyone's.
   *
   * @param user the caller
   * @param groups the caller's groups
   * @return the grants
   */
  @GET
  @Path("/grants")
  public List<GrantView> grants(@HeaderParam(USER_HEADER) String user, @HeaderParam(GROUPS_HEADER) String groups) {
    Subject subject = caller(user, groups);
    List<Grant> grants = isAdmin(subject) ? jit.activeGrants() : jit.activeGrants(subject.id());
    return grants.stream().map(GrantView::of).toList();
  }

  /**
   * Revokes every grant and session token of a subject, at once. Callers may revoke themselves; {@code admins}
   * anyone.
   *
   * @param user the caller
   * @param groups the caller's groups
   * @param subjectId whose grants to revoke
   * @return 204
   */
  @DELETE
  @Path("/grants/{subject}")
  public Response revoke(
      @HeaderParam(USER_HEADER) String user,
      @HeaderParam(GROUPS_HEADER) String groups,
      @PathParam("subject") String subjectId) {
    Subject subject = caller(user, groups);
    if (!subject.id().equals(subjectId) && !isAdmin(subject)) {
      throw new AccessDeniedException(subject.id() + " may revoke only their own grants (admins: anyone's)");
    }
    jit.revoke(subjectId);
    return Response.noContent().build();
  }

  private static Subject caller(String user, String groups) {
    if (user == null || user.isBlank()) {
      throw new MissingUser();
    }
    String[] names =
        groups == null
            ? new String[0]
            : Arrays.stream(groups.split(",")).map(String::trim).filter(g -> !g.isEmpty()).toArray(String[]::new);
    return Subject.of(user.trim(), names);
  }

  private static boolean isAdmin(Subject subject) {
    return subject.groups().contains(ADMINS);
  }
}
