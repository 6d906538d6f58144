package dev.jitaccess.core;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.util.Base64URL;
import java.text.ParseException;
import dev.jitaccess.api.AccessDeniedException;
import dev.jitaccess.api.AccessRequest;
import dev.jitaccess.api.AccessRequestState;
import dev.jitaccess.api.AuditEvent;
import dev.jitaccess.api.AuthenticationException;
import dev.jitaccess.api.Decision;
import dev.jitaccess.api.Grant;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.ProviderException;
import dev.jitaccess.api.Subject;
import dev.jitaccess.api.spi.AccessRequestStore;
import dev.jitaccess.api.spi.AuditSink;
import dev.jitaccess.api.spi.Notifier;
import dev.jitaccess.api.spi.IdentityProvider;
import dev.jitaccess.api.spi.PolicyProvider;
import dev.jitaccess.core.internal.AccessWorkflow;
import dev.jitaccess.core.internal.AuditDispatcher;
import dev.jitaccess.core.internal.Notifiers;
import dev.jitaccess.core.internal.AuthenticationCache;
import dev.jitaccess.core.internal.GrantCache;
import dev.jitaccess.core.internal.GrantKey;
import dev.jitaccess.core.internal.KeyRing;
import dev.jitaccess.core.internal.RevocationRegistry;
import dev.jitaccess.core.internal.SignedGrantCache;
import dev.jitaccess.core.internal.SingleFlight;
import dev.jitaccess.core.internal.TokenHash;
import dev.jitaccess.core.internal.TokenIssuer;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The jit-access engine: authenticates bearer tokens, asks the policy, hands out short-lived {@link Grant}s,
 * caches them, revokes them, signs them, and audits every decision.
 *
 * <p>Grants are cached per (subject id, groups, cluster) until they expire, by default after
 * {@link Builder#DEFAULT_GRANT_TTL 5 minutes}; the next request after that asks the policy again, so a policy
 * change takes effect within one grant TTL, and {@link #revoke(String)} takes effect at once. While a grant is
 * cached it is returned as it is: the justification and requested TTL of later requests for the same subject
 * and cluster are ignored until it expires or is revoked.
 *
 * <p>Everything fails closed: a provider that throws or returns nothing means deny, an engine without a policy
 * provider denies everything ("no policy provider configured") and one without an identity provider
 * authenticates no one. No token, key or signature ever appears in a log line, exception message or audit
 * record; tokens are identified by a fingerprint (the first 8 hex characters of their SHA-256).
 *
 * <p>Instances are immutable (apart from the signing key ring and the caches) and thread-safe. They own no
 * thread or other resource that needs closing.
 *
 * @since 0.1.0
 */
public final class JitAccess {
  private static final Logger log = LoggerFactory.getLogger(JitAccess.class);
  /** The denial of a grant whose evaluation a revocation of its subject overtook. */
  private static final String REVOKED_DURING_EVALUATION = "access was revoked while the request was evaluated";

  /** The session-token {@code typ}, as the ASCII bytes looked for in a decoded JOSE header. */
  private static final byte[] SESSION_TYPE_BYTES = TokenIssuer.SESSION_TYPE.getBytes(StandardCharsets.US_ASCII);

  /** The largest bearer token accepted, in characters; longer ones are refused before any parsing. */
  public static final int MAX_TOKEN_LENGTH = 16 * 1024;

  private final Builder config;
  private final Duration grantTtl;
  private final Duration maxGrantTtl;
  private final Duration sessionTokenTtl;
  private final Duration maxSessionTokenTtl;
  private final String issuer;
  private final String relayAudience;
  private final AuditFailurePolicy auditFailurePolicy;
  private final @Nullable IdentityProvider identityProvider;
  private final @Nullable PolicyProvider policyProvider;
  private final InstantSource clock;
  private final KeyRing keyRing;
  private final AuditDispatcher audit;
  private final GrantCache grants;
  private final AuthenticationCache authentications;
  private final RevocationRegistry revocations = new RevocationRegistry();
  private final SessionTokenIdentityProvider sessionTokens;
  private final SignedGrantCache signedGrants;
  private final List<RevocationListener> revocationListeners = new CopyOnWriteArrayList<>();
  private final AgentCredentialVerifier agentCredentials;
  private final AccessWorkflow workflow;

  private JitAccess(Builder b, KeyRing keyRing) {
    this.config = new Builder(b); // a private copy, never the caller's builder
    this.grantTtl = b.grantTtl;
    this.maxGrantTtl = b.maxGrantTtl != null ? b.maxGrantTtl : b.grantTtl;
    this.sessionTokenTtl = b.sessionTokenTtl;
    this.maxSessionTokenTtl = b.maxSessionTokenTtl != null ? b.maxSessionTokenTtl : b.sessionTokenTtl;
    this.issuer = b.issuer;
    this.relayAudience = b.relayAudience;
    this.auditFailurePolicy = b.auditFailurePolicy;
    this.identityProvider = b.identityProvider;
    this.policyProvider = b.policyProvider;
    this.clock = b.clock;
    this.keyRing = keyRing;
    this.audit = new AuditDispatcher(List.copyOf(b.auditSinks));
    this.grants =
        new GrantCache(clock, b.grantCacheSize, clock.equals(InstantSource.system()), this::expired);
    this.authentications = new AuthenticationCache(clock, b.authenticationCacheSize);
    this.signedGrants = new SignedGrantCache(clock, b.grantCacheSize);
    this.sessionTokens =
        SessionTokenIdentityProvider.builder()
            .keySource(keyRing::publicKeys)
            .issuer(issuer)
            .audience(relayAudience)
            .clock(clock)
            .revocationCheck(revocations::isRevoked)
            .build();
    this.agentCredentials =
        AgentCredentialVerifier.builder().keySource(keyRing::publicKeys).issuer(issuer).clock(clock).build();
    EligibilityPolicy eligibility =
        b.eligibilityPolicy != null
            ? b.eligibilityPolicy
            : b.policyProvider instanceof EligibilityPolicy e ? e : null;
    this.workflow =
        new AccessWorkflow(
            b.accessRequestStore != null ? b.accessRequestStore : new InMemoryAccessRequestStore(),
            eligibility,
            new Notifiers(b.notifiers.isEmpty() ? List.of(new Slf4jNotifier()) : b.notifiers),
            audit,
            clock,
            (subjectId, cluster) ->
                grants.invalidate(k -> k.subjectId().equals(subjectId) && k.cluster().equals(cluster)));
  }

  /**
   * A verifier for the agent credentials this engine issues, following key rotation. The relay's tunnel side
   * uses it to learn which cluster a connecting agent serves.
   *
   * @return the verifier; thread-safe
   */
  public AgentCredentialVerifier agentCredentialVerifier() {
    return agentCredentials;
  }

  /**
   * A verifier for this engine's signed grants as the agent of {@code cluster} checks them, following key
   * rotation. Agents in other processes build a {@link GrantVerifier} from {@link #publicJwks()} instead.
   *
   * @param cluster the cluster id the verifier accepts grants for
   * @return the verifier; thread-safe
   * @throws IllegalArgumentException if the cluster id is invalid
   */
  public GrantVerifier grantVerifier(String cluster) {
    return GrantVerifier.builder().keySource(keyRing::publicKeys).issuer(issuer).cluster(cluster).clock(clock).build();
  }

  /**
   * A builder with every property at its default.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder preset with this engine's configuration, to derive a variant. Every property can be set once
   * more. A signing key given to the original builder is carried over; a generated one is not (the variant
   * generates its own).
   *
   * @return a new builder
   */
  public Builder toBuilder() {
    return new Builder(config);
  }

  /**
   * Authenticates a bearer token and authorizes its subject on a cluster.
   *
   * <p>The warm path (token and grant both cached) hashes the token, does two cache lookups and verifies no
   * signature.
   *
   * @param bearerToken the token as presented, without the {@code Bearer } prefix
   * @param cluster the cluster id
   * @return a live grant
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if the cluster id is invalid
   * @throws AuthenticationException if the token is not accepted, is over {@link #MAX_TOKEN_LENGTH}, no
   *     identity provider is configured, or the identity provider failed (a {@link ProviderException} cause)
   * @throws AccessDeniedException if the policy denies, fails, or the grant could not be audited
   */
  public Grant authorize(String bearerToken, String cluster) {
    Objects.requireNonNull(bearerToken, "bearerToken");
    AccessRequest.checkCluster(cluster);
    AuthenticationCache.Entry authenticated = authenticate(bearerToken, cluster);
    long generation = grants.generation();
    Grant cached = cachedGrant(authenticated, cluster, generation);
    if (cached != null) {
      return cached;
    }
    return evaluateCached(authenticated.grantKey(cluster), AccessRequest.of(authenticated.subject(), cluster));
  }

  /**
   * The grant {@link #authorize(String, String)} would return now, if that needs neither a provider call nor a
   * policy evaluation: the token's authentication and the grant are both cached. Never blocks, never calls a
   * provider, audits nothing; empty means "call {@code authorize}" (it does not mean denied). The relay uses it
   * to answer warm requests on its event loop.
   *
   * @param bearerToken the token as presented, without the {@code Bearer } prefix
   * @param cluster the cluster id
   * @return the live cached grant, or empty
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if the cluster id is invalid
   * @since 0.1.0
   */
  public Optional<Grant> authorizeIfCached(String bearerToken, String cluster) {
    Objects.requireNonNull(bearerToken, "bearerToken");
    AccessRequest.checkCluster(cluster);
    if (bearerToken.length() > MAX_TOKEN_LENGTH) {
      return Optional.empty();
    }
    AuthenticationCache.Entry authenticated = authentications.getIfPresent(TokenHash.of(bearerToken));
    return authenticated == null
        ? Optional.empty()
        : Optional.ofNullable(cachedGrant(authenticated, cluster, grants.generation()));
  }

  /** The warm path: the grant remembered beside the authentication, else the grant cache; null on a miss. */
  private @Nullable Grant cachedGrant(AuthenticationCache.Entry authenticated, String cluster, long generation) {
    Grant remembered = authenticated.rememberedGrant(cluster, grants);
    if (remembered != null) {
      return remembered; // no second cache lookup (any revoke or invalidation forgets it)
    }
    GrantKey key = authenticated.grantKey(cluster);
    Grant cached = grants.getIfPresent(key);
    if (cached != null) {
      authenticated.remember(key, cached, generation, grants);
    }
    return cached;
  }

  /**
   * Evaluates once for all concurrent callers, who share the grant or the denial, and caches. A grant evaluated
   * across an invalidation (a revoke, an approval becoming active) is dropped and evaluated once more against the
   * new state (GrantCache). An evaluation overtaken by a revocation of its subject is refused to the caller that
   * ran it; the callers waiting for it get one fresh evaluation instead, as a grant asked for after a revoke works.
   */
  private Grant evaluateCached(GrantKey key, AccessRequest request) {
    try {
      return grants.get(key, k -> evaluate(request), JitAccess::overtakenByRevocation);
    } catch (SingleFlight.InterruptedWaitException e) {
      throw new AccessDeniedException("interrupted while waiting for the policy's answer; try again");
    }
  }

  private static boolean overtakenByRevocation(RuntimeException e) {
    return e instanceof AccessDeniedException d && REVOKED_DURING_EVALUATION.equals(d.reason());
  }

  /**
   * Authorizes an already authenticated subject (for example in a portal that has its own login).
   *
   * @param request the subject, cluster, optional justification and optional requested TTL
   * @return a live grant: the cached one for the subject and cluster, or a new one valid for the shortest of
   *     the requested TTL (capped by the max grant TTL; the grant TTL when none), and the policy's max TTL
   * @throws NullPointerException if {@code request} is null
   * @throws AccessDeniedException if the policy denies, fails, or the grant could not be audited
   */
  public Grant authorize(AccessRequest request) {
    Objects.requireNonNull(request, "request");
    GrantKey key = GrantKey.of(request.subject(), request.cluster());
    Grant cached = grants.getIfPresent(key);
    return cached != null ? cached : evaluateCached(key, request);
  }

  /**
   * Revokes everything the subject holds, at once: its cached grants on every cluster and its cached
   * authentications. Session tokens issued to it before now are refused from now on. A grant authorized after
   * this call works normally. Its active access requests end ({@code REVOKED}). Audited as
   * {@link AuditEvent.Type#REVOKED}. Signed grants already handed out stay valid until they expire unless the
   * agent learns of the revocation.
   *
   * @param subjectId the subject's id
   * @throws NullPointerException if {@code subjectId} is null
   * @throws ProviderException if the access request store failed (the cached grants are revoked anyway)
   */
  public void revoke(String subjectId) {
    Objects.requireNonNull(subjectId, "subjectId");
    revocations.revokeSubject(subjectId, clock.instant());
    RuntimeException storeFailure = null;
    List<String> requests = List.of();
    try {
      requests = workflow.revoke(subjectId, null);
    } catch (RuntimeException e) {
      storeFailure = e;
    }
    List<Grant> removed = grants.invalidate(k -> k.subjectId().equals(subjectId));
    authentications.invalidateSubject(subjectId);
    revoked(subjectId, null, removed, requests);
    if (storeFailure != null) {
      throw storeFailure;
    }
  }

  /**
   * Revokes the subject's access to one cluster, at once, including its active access requests there.
   * Audited as {@link AuditEvent.Type#REVOKED}.
   *
   * @param subjectId the subject's id
   * @param cluster the cluster id
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if the cluster id is invalid
   * @throws ProviderException if the access request store failed (the cached grants are revoked anyway)
   */
  public void revoke(String subjectId, String cluster) {
    Objects.requireNonNull(subjectId, "subjectId");
    AccessRequest.checkCluster(cluster);
    revocations.revokeCluster(subjectId, cluster);
    RuntimeException storeFailure = null;
    List<String> requests = List.of();
    try {
      requests = workflow.revoke(subjectId, cluster);
    } catch (RuntimeException e) {
      storeFailure = e;
    }
    List<Grant> removed =
        grants.invalidate(k -> k.subjectId().equals(subjectId) && k.cluster().equals(cluster));
    revoked(subjectId, cluster, removed, requests);
    if (storeFailure != null) {
      throw storeFailure;
    }
  }

  /**
   * The live grants: cached, unexpired, unrevoked, oldest first. Also emits the pending
   * {@link AuditEvent.Type#EXPIRED} events of grants that ended since the last cache activity.
   *
   * @return an unmodifiable snapshot
   */
  public List<Grant> activeGrants() {
    return grants.active(g -> true);
  }

  /**
   * The live grants of one subject, oldest first.
   *
   * @param subjectId the subject's id
   * @return an unmodifiable snapshot
   * @throws NullPointerException if {@code subjectId} is null
   */
  public List<Grant> activeGrants(String subjectId) {
    Objects.requireNonNull(subjectId, "subjectId");
    return grants.active(g -> g.subject().id().equals(subjectId));
  }

  /**
   * Signs a grant as a compact JWS ({@code typ} {@code jit-grant+jwt}, ES256 by default) that an agent verifies
   * against {@link #publicJwks()}: iss, sub, aud = cluster, jti = grant id, iat, nbf, exp, permissions.
   *
   * @param grant the grant, normally one {@link #authorize} returned
   * @return the compact JWS
   * @throws NullPointerException if {@code grant} is null
   */
  public String signGrant(Grant grant) {
    Objects.requireNonNull(grant, "grant");
    // One signature per grant, not per request: the relay signs on every call it forwards.
    String signed = signedGrants.get(grant);
    if (signed == null) {
      signed = keyRing.signGrant(grant);
      signedGrants.put(grant, signed);
    }
    return signed;
  }

  /**
   * Records an event in the audit trail, to every sink, guarded like the engine's own events: a failing sink
   * is logged and reported to the others, never thrown. The relay records its per-request events this way.
   *
   * @param event the event; it must carry no token, key or signature
   * @return true when at least one sink accepted it (or no sink is configured)
   * @throws NullPointerException if {@code event} is null
   */
  public boolean audit(AuditEvent event) {
    return audit.dispatch(Objects.requireNonNull(event, "event"));
  }

  /**
   * Registers a listener told about every revocation after it took effect in this engine; the relay uses it to
   * push revocations to the agents, which close the subject's open streams. Listeners run on the revoking
   * thread, must be fast, and a listener that throws is logged and does not stop the others.
   *
   * @param listener the listener
   * @throws NullPointerException if {@code listener} is null
   */
  public void addRevocationListener(RevocationListener listener) {
    revocationListeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /**
   * The public keys that verify what this engine signed (the current key and retired keys whose tokens are
   * still live), as a JWK set JSON. Never contains a private key.
   *
   * @return the JWK set JSON
   */
  public String publicJwks() {
    return keyRing.publicJwks();
  }

  /** Starts signing with a fresh key; the previous key stays in {@link #publicJwks()} until what it signed ends. */
  public void rotateSigningKey() {
    keyRing.rotate();
  }

  /**
   * Issues a session token (a JWT with {@code typ} {@code jit-session+jwt} and the relay audience) for the
   * subject, for the default session token TTL.
   *
   * @param subject the subject
   * @return the signed token
   * @throws NullPointerException if {@code subject} is null
   */
  public String issueSessionToken(Subject subject) {
    return issueSessionToken(subject, sessionTokenTtl);
  }

  /**
   * Issues a session token for the subject, valid for {@code ttl}.
   *
   * @param subject the subject
   * @param ttl how long the token is valid
   * @return the signed token
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if {@code ttl} is not positive or exceeds the max session token TTL
   */
  public String issueSessionToken(Subject subject, Duration ttl) {
    Objects.requireNonNull(subject, "subject");
    Builder.positive(ttl, "ttl");
    if (ttl.compareTo(maxSessionTokenTtl) > 0) {
      throw new IllegalArgumentException(
          "ttl must be at most maxSessionTokenTtl (" + maxSessionTokenTtl + ") but was " + ttl);
    }
    Instant now = clock.instant();
    log.debug("Issuing a session token for {} valid for {}", subject.id(), ttl);
    return keyRing.signSessionToken(subject, UUID.randomUUID().toString(), now, now.plus(ttl));
  }

  /**
   * Issues the credential with which an agent connects for exactly one cluster ({@code typ}
   * {@code jit-agent+jwt}).
   *
   * @param cluster the cluster id
   * @param ttl how long the credential is valid
   * @return the signed credential
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if the cluster id is invalid or {@code ttl} is not positive
   */
  public String issueAgentCredential(String cluster, Duration ttl) {
    AccessRequest.checkCluster(cluster);
    Builder.positive(ttl, "ttl");
    Instant now = clock.instant();
    return keyRing.signAgentCredential(cluster, UUID.randomUUID().toString(), now, now.plus(ttl));
  }

  /**
   * The issuer ({@code iss}) of everything this engine signs.
   *
   * @return the issuer
   */
  public String issuer() {
    return issuer;
  }

  /**
   * The audience of session tokens: the relay.
   *
   * @return the relay audience
   */
  public String relayAudience() {
    return relayAudience;
  }

  /**
   * The default lifetime of a grant.
   *
   * @return the grant TTL
   */
  public Duration grantTtl() {
    return grantTtl;
  }

  /**
   * The longest lifetime a request may ask for.
   *
   * @return the max grant TTL
   */
  public Duration maxGrantTtl() {
    return maxGrantTtl;
  }

  /**
   * The engine's clock.
   *
   * @return the clock
   */
  public InstantSource clock() {
    return clock;
  }

  /**
   * What happens to a grant whose audit record no sink accepted.
   *
   * @return the policy
   */
  public AuditFailurePolicy auditFailurePolicy() {
    return auditFailurePolicy;
  }

  // ------------------------------------------------------------------------------------------ access requests

  /**
   * Asks for every role the subject is eligible for on the cluster; see
   * {@link #requestAccess(AccessRequest, Set)}.
   *
   * @param request the requester, cluster, justification (required) and duration (null: the maximum)
   * @return the stored request, {@code PENDING} or (with no approvals needed) {@code ACTIVE}
   * @throws NullPointerException if {@code request} is null
   * @throws IllegalArgumentException if the justification is missing or does not match the pattern, or the
   *     duration exceeds the maximum
   * @throws AccessDeniedException if the subject is eligible for nothing there, or no eligibility policy is
   *     configured
   * @throws ProviderException if the access request store failed
   * @since 0.2.0
   */
  public AccessRequestState requestAccess(AccessRequest request) {
    return requestAccess(request, Set.of());
  }

  /**
   * Asks for eligible roles on a cluster, for a time, with a justification. The request needs the approvals
   * of the eligible bindings' {@link ApprovalRule}s (combined strictly when several apply: the most
   * approvals, the shortest maximum duration and pending timeout, every pattern, and reviewers allowed by
   * every rule); with 0 approvals it is active at once. Once active, {@link #authorize} includes its
   * permissions until {@link AccessRequestState#activeUntil()}. Audited as {@code REQUESTED}; notifiers hear
   * {@code CREATED}.
   *
   * @param request the requester, cluster, justification (required) and duration (null: the maximum)
   * @param roles the policy role names wanted; empty for every eligible role
   * @return the stored request, {@code PENDING} or (with no approvals needed) {@code ACTIVE}
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if the justification is missing or does not match the pattern, or the
   *     duration exceeds the maximum
   * @throws AccessDeniedException if the subject is not eligible for a role there, or no eligibility policy is
   *     configured
   * @throws ProviderException if the access request store failed
   * @since 0.2.0
   */
  public AccessRequestState requestAccess(AccessRequest request, Set<String> roles) {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(roles, "roles");
    return workflow.request(request, Set.copyOf(roles));
  }

  /**
   * Approves a pending request. With this approval reaching the required number the request becomes
   * {@code ACTIVE} for its duration starting now, cached grants of the requester on the cluster are dropped,
   * and the next {@link #authorize} includes its permissions. Safe under concurrent reviewers: each approval
   * is recorded once and the request activates once. Audited as {@code APPROVED} (and {@code ACTIVATED}).
   *
   * @param requestId the request id
   * @param reviewer the reviewer, as authenticated by the host application
   * @param comment an optional comment, or {@code null}
   * @return the request after the approval
   * @throws NullPointerException if {@code requestId} or {@code reviewer} is null
   * @throws IllegalArgumentException if there is no such request
   * @throws IllegalStateException if the request expired, was already decided, or the reviewer already
   *     reviewed it
   * @throws AccessDeniedException if the reviewer is not an approver, is the requester without self-approval,
   *     or the requester is no longer eligible (audited as {@code DENIED})
   * @throws ProviderException if the access request store failed
   * @since 0.2.0
   */
  public AccessRequestState approve(String requestId, Subject reviewer, @Nullable String comment) {
    Objects.requireNonNull(reviewer, "reviewer");
    return workflow.review(requestId, reviewer, AccessRequestState.Verdict.APPROVE, comment);
  }

  /**
   * Denies a pending request; one denial ends it. Audited as {@code REJECTED}; notifiers hear {@code DENIED}.
   *
   * @param requestId the request id
   * @param reviewer the reviewer
   * @param reason why, shown to the requester
   * @return the denied request
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if there is no such request
   * @throws IllegalStateException if the request expired or was already decided, or the reviewer already
   *     reviewed it
   * @throws AccessDeniedException if the reviewer may not review it
   * @throws ProviderException if the access request store failed
   * @since 0.2.0
   */
  public AccessRequestState deny(String requestId, Subject reviewer, String reason) {
    Objects.requireNonNull(reviewer, "reviewer");
    Objects.requireNonNull(reason, "reason");
    return workflow.review(requestId, reviewer, AccessRequestState.Verdict.DENY, reason);
  }

  /**
   * Withdraws a pending or active request; an active one stops granting at once. Audited as
   * {@code CANCELLED}.
   *
   * @param requestId the request id
   * @param requester the requester (nobody else may cancel)
   * @return the cancelled request
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if there is no such request
   * @throws IllegalStateException if it already ended
   * @throws AccessDeniedException if {@code requester} did not make it
   * @throws ProviderException if the access request store failed
   * @since 0.2.0
   */
  public AccessRequestState cancel(String requestId, Subject requester) {
    Objects.requireNonNull(requester, "requester");
    return workflow.cancel(requestId, requester);
  }

  /**
   * Extends an active request once, by at most the maximum duration of its rules, with a new justification
   * that must match their patterns. No new approval is needed. Audited as {@code EXTENDED}.
   *
   * @param requestId the request id
   * @param requester the requester (nobody else may extend)
   * @param extension how much longer; positive, at most the maximum duration
   * @param justification why; must match the rules' patterns
   * @return the extended request
   * @throws NullPointerException if an argument is null
   * @throws IllegalArgumentException if there is no such request, the extension is too long or the
   *     justification does not match
   * @throws IllegalStateException if the request is not active or was already extended
   * @throws AccessDeniedException if {@code requester} did not make it or is no longer eligible
   * @throws ProviderException if the access request store failed
   * @since 0.2.0
   */
  public AccessRequestState extend(String requestId, Subject requester, Duration extension, String justification) {
    Objects.requireNonNull(requester, "requester");
    Builder.positive(extension, "extension");
    Objects.requireNonNull(justification, "justification");
    if (justification.isBlank()) {
      throw new IllegalArgumentException("an extension needs a justification");
    }
    return workflow.extend(requestId, requester, extension, justification.strip());
  }

  /**
   * Looks a request up.
   *
   * @param requestId the request id
   * @return the request, or empty
   * @throws NullPointerException if {@code requestId} is null
   * @throws ProviderException if the access request store failed
   * @since 0.2.0
   */
  public Optional<AccessRequestState> findRequest(String requestId) {
    Objects.requireNonNull(requestId, "requestId");
    try {
      return Optional.of(workflow.load(requestId));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /**
   * The requests a subject made, oldest first, in every status.
   *
   * @param requesterId the requester's id
   * @return an unmodifiable snapshot
   * @throws NullPointerException if {@code requesterId} is null
   * @throws ProviderException if the access request store failed
   * @since 0.2.0
   */
  public List<AccessRequestState> requestsOf(String requesterId) {
    Objects.requireNonNull(requesterId, "requesterId");
    return workflow.of(requesterId);
  }

  /**
   * The pending, unexpired requests the reviewer may review and has not reviewed yet, oldest first: a
   * reviewer's inbox.
   *
   * @param reviewer the reviewer
   * @return an unmodifiable snapshot
   * @throws NullPointerException if {@code reviewer} is null
   * @throws ProviderException if the access request store failed
   * @since 0.2.0
   */
  public List<AccessRequestState> requestsToReview(Subject reviewer) {
    Objects.requireNonNull(reviewer, "reviewer");
    return workflow.toReview(reviewer);
  }

  /**
   * Records every access request that lapsed since the last call — pending past its expiry without enough
   * approvals, or active past its window — as {@code EXPIRED} in the store and in the audit trail
   * ({@link AuditEvent.Type#EXPIRED} with the request id), once each. Lapsed requests already grant nothing;
   * this makes the record say so. The engine has no thread of its own: the host calls this periodically, for
   * example with {@link #notifyExpiringSoon(Duration)}.
   *
   * @return how many requests were recorded as expired
   * @throws ProviderException if the access request store failed
   * @since 0.2.0
   */
  public int expireLapsedRequests() {
    return workflow.expireLapsed();
  }

  /**
   * Sends {@code EXPIRING_SOON} to the notifiers for every active request whose window ends within
   * {@code window} from now, once per window (an extension re-arms it). The engine has no thread of its own:
   * the host calls this periodically, for example every minute with a window of 10 minutes.
   *
   * @param window how far ahead to look; positive
   * @return how many notifications were sent
   * @throws NullPointerException if {@code window} is null
   * @throws IllegalArgumentException if {@code window} is not positive
   * @throws ProviderException if the access request store failed
   * @since 0.2.0
   */
  public int notifyExpiringSoon(Duration window) {
    Builder.positive(window, "window");
    return workflow.notifyExpiringSoon(window);
  }

  // ---------------------------------------------------------------------------------------------- internals

  private AuthenticationCache.Entry authenticate(String token, String cluster) {
    if (token.length() > MAX_TOKEN_LENGTH) {
      AuthenticationException e =
          new AuthenticationException(
              "bearer token is longer than " + MAX_TOKEN_LENGTH + " characters and was refused unparsed");
      throw authenticationFailed(e, e.getMessage(), null, cluster);
    }
    TokenHash hash = TokenHash.of(token);
    AuthenticationCache.Entry cached = authentications.getIfPresent(hash);
    if (cached != null) {
      return cached;
    }
    try {
      return authentications.get(hash, token, this::authenticateUncached);
    } catch (AuthenticationException e) {
      throw authenticationFailed(e, redacted(e.getMessage(), token), hash, cluster);
    } catch (SingleFlight.InterruptedWaitException e) {
      throw new AuthenticationException("interrupted while waiting for the identity provider's answer; try again");
    }
  }

  /**
   * Verifies a token: the engine's own session tokens (recognized by their {@code typ}) with the built-in
   * {@link SessionTokenIdentityProvider}, anything else with the configured identity provider. Every failure
   * is an {@link AuthenticationException}.
   */
  private AuthenticationCache.Authenticated authenticateUncached(String token) {
    IdentityProvider provider = isSessionToken(token) ? sessionTokens : identityProvider;
    if (provider == null) {
      throw new AuthenticationException(
          "no identity provider configured; build JitAccess with identityProvider(...)");
    }
    Subject subject;
    Instant expiresAt = null;
    try {
      if (provider instanceof OidcIdentityProvider oidc) {
        // The built-in provider hands over the verified exp, so the cache does not parse the token again.
        AuthenticationCache.Authenticated authenticated = oidc.authenticateWithExpiry(token);
        subject = authenticated.subject();
        expiresAt = authenticated.expiresAt();
      } else {
        subject = provider.authenticate(token);
      }
    } catch (AuthenticationException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new AuthenticationException(
          "identity provider '" + provider.id() + "' failed; the token was not accepted",
          new ProviderException(provider.id(), "authentication failed with " + e.getClass().getName(), e));
    }
    if (subject == null) {
      throw new AuthenticationException(
          "identity provider '" + provider.id() + "' returned no subject; the token was not accepted",
          new ProviderException(provider.id(), "authenticate returned null", null));
    }
    return new AuthenticationCache.Authenticated(subject, expiresAt);
  }

  private AuthenticationException authenticationFailed(
      AuthenticationException e, String detail, @Nullable TokenHash hash, String cluster) {
    Map<String, String> attributes = new LinkedHashMap<>();
    if (hash != null) {
      attributes.put("tokenFingerprint", hash.fingerprint());
    }
    if (identityProvider != null) {
      attributes.put("provider", identityProvider.id());
    }
    audit.dispatch(
        new AuditEvent(
            clock.instant(),
            AuditEvent.Type.AUTHENTICATION_FAILED,
            null,
            cluster,
            null,
            detail,
            attributes));
    return e;
  }

  /** Whether the token's JOSE header names the engine's session-token type; false for anything unparsable. */
  private static boolean isSessionToken(String token) {
    int dot = token.indexOf('.');
    if (dot <= 0) {
      return false;
    }
    byte[] header;
    try {
      header = Base64.getUrlDecoder().decode(token.substring(0, dot));
    } catch (IllegalArgumentException e) {
      return isSessionTokenLenient(token, dot); // not strict base64url: as nimbus reads it
    }
    // Cheap test first, on the bytes: most tokens are OIDC tokens whose header never mentions our type (an
    // ASCII string is found in UTF-8 bytes exactly where it is found in the decoded text).
    if (indexOf(header, SESSION_TYPE_BYTES) < 0) {
      return false;
    }
    return isSessionType(new String(header, StandardCharsets.UTF_8));
  }

  private static boolean isSessionTokenLenient(String token, int dot) {
    try {
      String header = new Base64URL(token.substring(0, dot)).decodeToString();
      return header.contains(TokenIssuer.SESSION_TYPE) && isSessionType(header);
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static boolean isSessionType(String headerJson) {
    try {
      JOSEObjectType type = JWSHeader.parse(headerJson).getType();
      return type != null && TokenIssuer.SESSION_TYPE.equals(type.getType());
    } catch (ParseException | RuntimeException e) {
      return false;
    }
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i <= haystack.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  /** A provider's message with the token cut out, should a careless provider have quoted it. */
  private static String redacted(@Nullable String message, String token) {
    if (message == null) {
      return "authentication failed";
    }
    return token.isEmpty() ? message : message.replace(token, "<redacted>");
  }

  /** The grant cache loader: asks the policy, builds and audits the grant. Throws to deny (nothing cached). */
  private Grant evaluate(AccessRequest request) {
    long sequence = revocations.sequence();
    PolicyProvider policy = policyProvider;
    if (policy == null) {
      throw denied(request, "no policy provider configured", "none", null);
    }
    Decision decision;
    try {
      decision = policy.evaluate(request);
    } catch (RuntimeException e) {
      throw denied(
          request,
          "policy provider '" + policy.id() + "' failed; access is denied until it works again",
          policy.id(),
          new ProviderException(policy.id(), "evaluation failed with " + e.getClass().getName(), e));
    }
    if (decision == null) {
      throw denied(
          request,
          "policy provider '" + policy.id() + "' returned no decision; access is denied",
          policy.id(),
          new ProviderException(policy.id(), "evaluate returned null", null));
    }
    List<AccessRequestState> approved;
    try {
      approved = workflow.active(request.subject().id(), request.cluster(), clock.instant());
    } catch (RuntimeException e) {
      throw denied(
          request,
          "the access request store failed; access is denied until it works again",
          policy.id(),
          e instanceof ProviderException p ? p : new ProviderException("access-requests", e.toString(), e));
    }
    if (decision instanceof Decision.Denied d && approved.isEmpty()) {
      throw denied(request, d.reason(), policy.id(), null);
    }
    Grant grant =
        newGrant(request, decision instanceof Decision.Granted g ? g : null, approved);
    String subjectId = grant.subject().id();
    if (revocations.revokedSince(subjectId, grant.cluster(), sequence)) {
      throw denied(request, REVOKED_DURING_EVALUATION, policy.id(), null);
    }
    boolean recorded = audit.dispatch(grantedEvent(grant, policy.id(), approved));
    if (!recorded && auditFailurePolicy == AuditFailurePolicy.FAIL_CLOSED) {
      throw denied(
          request,
          "audit trail unavailable: no audit sink recorded the grant, so it was refused; try again later",
          policy.id(),
          null);
    }
    if (log.isDebugEnabled()) {
      log.debug("Granted {} to {} on {} until {}", grant.id(), subjectId, grant.cluster(), grant.expiresAt());
    }
    return grant;
  }

  /**
   * A grant of the standing permissions (if the policy granted) and those of the active access requests,
   * capped by the earliest end of their windows.
   */
  private Grant newGrant(
      AccessRequest request, Decision.@Nullable Granted granted, List<AccessRequestState> approved) {
    Duration ttl =
        request.requestedTtl() == null ? grantTtl : min(request.requestedTtl(), maxGrantTtl);
    List<Permission> permissions = new ArrayList<>();
    if (granted != null) {
      ttl = min(ttl, granted.maxTtl());
      permissions.addAll(granted.permissions());
    }
    Instant now = clock.instant();
    Instant end = now.plus(ttl);
    for (AccessRequestState r : approved) {
      r.permissions().stream().filter(p -> !permissions.contains(p)).forEach(permissions::add);
      Instant until = Objects.requireNonNull(r.activeUntil());
      end = until.isBefore(end) ? until : end;
    }
    // Whole seconds, because that is what the signed form (JWT NumericDate) carries: the grant the agent
    // verifies must equal the one the engine made. Rounding down never lengthens a grant.
    Instant issuedAt = now.truncatedTo(ChronoUnit.SECONDS);
    Instant expiresAt = end.truncatedTo(ChronoUnit.SECONDS);
    if (!expiresAt.isAfter(issuedAt)) {
      expiresAt = issuedAt.plusSeconds(1);
    }
    return new Grant(
        UUID.randomUUID().toString(),
        request.subject(),
        request.cluster(),
        permissions,
        issuedAt,
        expiresAt,
        request.justification() != null || approved.isEmpty()
            ? request.justification()
            : approved.get(0).justification());
  }

  private AuditEvent grantedEvent(Grant grant, String providerId, List<AccessRequestState> approved) {
    Map<String, String> attributes = new LinkedHashMap<>();
    attributes.put("provider", providerId);
    if (!approved.isEmpty()) {
      attributes.put("requestId", approved.stream().map(AccessRequestState::id).collect(Collectors.joining(",")));
    }
    attributes.put(
        "permissions", grant.permissions().stream().map(Permission::toString).collect(Collectors.joining(",")));
    attributes.put("ttl", Duration.between(grant.issuedAt(), grant.expiresAt()).toString());
    attributes.put("expiresAt", grant.expiresAt().toString());
    if (grant.justification() != null) {
      attributes.put("justification", grant.justification());
    }
    return new AuditEvent(
        grant.issuedAt(),
        AuditEvent.Type.GRANTED,
        grant.subject().id(),
        grant.cluster(),
        grant.id(),
        "granted " + grant.permissions().size() + " permission(s) until " + grant.expiresAt(),
        attributes);
  }

  private AccessDeniedException denied(
      AccessRequest request, String reason, String providerId, @Nullable ProviderException cause) {
    Map<String, String> attributes = new LinkedHashMap<>();
    attributes.put("provider", providerId);
    if (request.justification() != null) {
      attributes.put("justification", request.justification());
    }
    if (cause != null) {
      attributes.put("providerFailure", cause.getMessage());
    }
    audit.dispatch(
        new AuditEvent(
            clock.instant(),
            AuditEvent.Type.DENIED,
            request.subject().id(),
            request.cluster(),
            null,
            reason,
            attributes));
    log.debug("Denied {} on {}: {}", request.subject().id(), request.cluster(), reason);
    AccessDeniedException e = new AccessDeniedException(reason);
    if (cause != null) {
      e.initCause(cause);
    }
    return e;
  }

  private void revoked(String subjectId, @Nullable String cluster, List<Grant> removed, List<String> requests) {
    Map<String, String> attributes = new LinkedHashMap<>();
    attributes.put("grants", removed.stream().map(Grant::id).collect(Collectors.joining(",")));
    if (!requests.isEmpty()) {
      attributes.put("requestId", String.join(",", requests));
    }
    attributes.put("count", Integer.toString(removed.size()));
    audit.dispatch(
        new AuditEvent(
            clock.instant(),
            AuditEvent.Type.REVOKED,
            subjectId,
            cluster,
            null,
            cluster == null ? "all access revoked" : "access to " + cluster + " revoked",
            attributes));
    log.info("Revoked {} on {}: {} cached grant(s)", subjectId, cluster == null ? "all clusters" : cluster,
        removed.size());
    for (RevocationListener listener : revocationListeners) {
      try {
        listener.revoked(subjectId, cluster);
      } catch (RuntimeException e) {
        log.warn("Revocation listener {} failed for subject {}", listener.getClass().getName(), subjectId, e);
      }
    }
  }

  private void expired(Grant grant) {
    audit.dispatch(
        new AuditEvent(
            grant.expiresAt(),
            AuditEvent.Type.EXPIRED,
            grant.subject().id(),
            grant.cluster(),
            grant.id(),
            "grant expired",
            Map.of("detectedAt", clock.instant().toString())));
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  /**
   * Configures and builds a {@link JitAccess}.
   *
   * <p>Each method checks its argument at once and may be called only once per builder (an
   * {@link IllegalStateException} names the earlier value); {@link #auditSink} and {@link #notifier} are repeatable. {@link #build()}
   * checks the values against each other and leaves the builder unchanged, so one builder can build several
   * engines (each with its own generated key unless {@link #signingKey} was set). Not thread-safe.
   *
   * @since 0.1.0
   */
  public static final class Builder {
    /** The default {@link #grantTtl}: 5 minutes. */
    public static final Duration DEFAULT_GRANT_TTL = Duration.ofMinutes(5);

    /** The default {@link #sessionTokenTtl}: 8 hours. */
    public static final Duration DEFAULT_SESSION_TOKEN_TTL = Duration.ofHours(8);

    /** The default {@link #issuer}. */
    public static final String DEFAULT_ISSUER = "jit-access";

    /** The default {@link #relayAudience}. */
    public static final String DEFAULT_RELAY_AUDIENCE = "jit-access-relay";

    /** The default size of each cache (authentications and grants). */
    public static final long DEFAULT_CACHE_SIZE = 10_000;

    private final Map<String, String> alreadySet = new LinkedHashMap<>();
    private @Nullable IdentityProvider identityProvider;
    private @Nullable PolicyProvider policyProvider;
    private final List<AuditSink> auditSinks = new ArrayList<>();
    private Duration grantTtl = DEFAULT_GRANT_TTL;
    private @Nullable Duration maxGrantTtl;
    private InstantSource clock = InstantSource.system();
    private String issuer = DEFAULT_ISSUER;
    private String relayAudience = DEFAULT_RELAY_AUDIENCE;
    private @Nullable KeyPair signingKey;
    private Duration sessionTokenTtl = DEFAULT_SESSION_TOKEN_TTL;
    private @Nullable Duration maxSessionTokenTtl;
    private AuditFailurePolicy auditFailurePolicy = AuditFailurePolicy.FAIL_CLOSED;
    private long authenticationCacheSize = DEFAULT_CACHE_SIZE;
    private long grantCacheSize = DEFAULT_CACHE_SIZE;
    private @Nullable AccessRequestStore accessRequestStore;
    private @Nullable EligibilityPolicy eligibilityPolicy;
    private final List<Notifier> notifiers = new ArrayList<>();

    private Builder() {}

    /** A copy of the other builder's values, none of them marked as set. */
    private Builder(Builder other) {
      identityProvider = other.identityProvider;
      policyProvider = other.policyProvider;
      auditSinks.addAll(other.auditSinks);
      grantTtl = other.grantTtl;
      maxGrantTtl = other.maxGrantTtl;
      clock = other.clock;
      issuer = other.issuer;
      relayAudience = other.relayAudience;
      signingKey = other.signingKey;
      sessionTokenTtl = other.sessionTokenTtl;
      maxSessionTokenTtl = other.maxSessionTokenTtl;
      auditFailurePolicy = other.auditFailurePolicy;
      authenticationCacheSize = other.authenticationCacheSize;
      grantCacheSize = other.grantCacheSize;
      accessRequestStore = other.accessRequestStore;
      eligibilityPolicy = other.eligibilityPolicy;
      notifiers.addAll(other.notifiers);
    }

    /**
     * Sets where access requests are kept. Default: a new {@link InMemoryAccessRequestStore} per engine (lost
     * on restart, not shared between processes); use {@code JdbcAccessRequestStore} to keep them in a
     * database.
     *
     * @param accessRequestStore the store
     * @return this builder
     * @throws NullPointerException if the argument is null
     * @throws IllegalStateException if it was already set
     * @since 0.2.0
     */
    public Builder accessRequestStore(AccessRequestStore accessRequestStore) {
      Objects.requireNonNull(accessRequestStore, "accessRequestStore");
      once("accessRequestStore", accessRequestStore.id());
      this.accessRequestStore = accessRequestStore;
      return this;
    }

    /**
     * Sets which roles subjects may request and how requests are approved. Default: the
     * {@link #policyProvider} when it implements {@link EligibilityPolicy} (as {@link RulePolicyProvider}
     * does); otherwise access requests are refused.
     *
     * @param eligibilityPolicy the policy
     * @return this builder
     * @throws NullPointerException if the argument is null
     * @throws IllegalStateException if it was already set
     * @since 0.2.0
     */
    public Builder eligibilityPolicy(EligibilityPolicy eligibilityPolicy) {
      Objects.requireNonNull(eligibilityPolicy, "eligibilityPolicy");
      once("eligibilityPolicy", eligibilityPolicy.getClass().getSimpleName());
      this.eligibilityPolicy = eligibilityPolicy;
      return this;
    }

    /**
     * Adds a notifier for access requests; every notification goes to every notifier, in the order added.
     * Default (none added): one {@link Slf4jNotifier}.
     *
     * @param notifier the notifier
     * @return this builder
     * @throws NullPointerException if the argument is null
     * @throws IllegalArgumentException if this very notifier was already added
     * @since 0.2.0
     */
    public Builder notifier(Notifier notifier) {
      Objects.requireNonNull(notifier, "notifier");
      for (Notifier n : notifiers) {
        if (n == notifier) {
          throw new IllegalArgumentException("notifier '" + notifier.id() + "' was already added");
        }
      }
      notifiers.add(notifier);
      return this;
    }

    /**
     * Sets who authenticates bearer tokens. Without one, {@link JitAccess#authorize(String, String)} fails with
     * an {@link AuthenticationException} ("no identity provider configured").
     *
     * @param identityProvider the provider
     * @return this builder
     * @throws NullPointerException if the argument is null
     * @throws IllegalStateException if it was already set
     */
    public Builder identityProvider(IdentityProvider identityProvider) {
      Objects.requireNonNull(identityProvider, "identityProvider");
      once("identityProvider", identityProvider.id());
      this.identityProvider = identityProvider;
      return this;
    }

    /**
     * Sets who decides. Without one the engine denies every request ("no policy provider configured"): fail
     * closed, never a permissive default.
     *
     * @param policyProvider the provider
     * @return this builder
     * @throws NullPointerException if the argument is null
     * @throws IllegalStateException if it was already set
     */
    public Builder policyProvider(PolicyProvider policyProvider) {
      Objects.requireNonNull(policyProvider, "policyProvider");
      once("policyProvider", policyProvider.id());
      this.policyProvider = policyProvider;
      return this;
    }

    /**
     * Adds an audit sink; every event goes to every sink, in the order added. With no sink at all the engine
     * keeps no audit trail (and {@link AuditFailurePolicy} does not apply).
     *
     * @param auditSink the sink
     * @return this builder
     * @throws NullPointerException if the argument is null
     * @throws IllegalArgumentException if this very sink was already added
     */
    public Builder auditSink(AuditSink auditSink) {
      Objects.requireNonNull(auditSink, "auditSink");
      for (AuditSink s : auditSinks) {
        if (s == auditSink) {
          throw new IllegalArgumentException("auditSink '" + auditSink.id() + "' was already added");
        }
      }
      auditSinks.add(auditSink);
      return this;
    }

    /**
     * Sets how long a grant lives when the request asks for no TTL, and so how often the policy is asked
     * again. Default {@link #DEFAULT_GRANT_TTL}.
     *
     * @param grantTtl a positive duration
     * @return this builder
     * @throws NullPointerException if the argument is null
     * @throws IllegalArgumentException if it is not positive
     * @throws IllegalStateException if it was already set
     */
    public Builder grantTtl(Duration grantTtl) {
      this.grantTtl = setOnce("grantTtl", positive(grantTtl, "grantTtl"));
      return this;
    }

    /**
     * Sets the longest TTL a request may ask for (longer requests are shortened to it). Default: the
     * {@link #grantTtl}, so requests can only shorten grants. Must not be shorter than the grant TTL.
     *
     * @param maxGrantTtl a positive duration
     * @return this builder
     * @throws NullPointerException if the argument is null
     * @throws IllegalArgumentException if it is not positive
     * @throws IllegalStateException if it was already set
     */
    public Builder maxGrantTtl(Duration maxGrantTtl) {
      this.maxGrantTtl = setOnce("maxGrantTtl", positive(maxGrantTtl, "maxGrantTtl"));
      return this;
    }

    /**
     * Sets the clock for grant times, cache expiry and token times. Default {@link InstantSource#system()}.
     *
     * @param clock the clock
     * @return this builder
     * @throws NullPointerException if the argument is null
     * @throws IllegalStateException if it was already set
     */
    public Builder clock(InstantSource clock) {
      Objects.requireNonNull(clock, "clock");
      this.clock = setOnce("clock", clock);
      return this;
    }

    /**
     * Sets the issuer ({@code iss}) of grants, session tokens and agent credentials. Default
     * {@link #DEFAULT_ISSUER}.
     *
     * @param issuer a non-blank string without control characters
     * @return this builder
     * @throws NullPointerException if the argument is null
     * @throws IllegalArgumentException if it is blank or has control characters
     * @throws IllegalStateException if it was already set
     */
    public Builder issuer(String issuer) {
      this.issuer = setOnce("issuer", text(issuer, "issuer"));
      return this;
    }

    /**
     * Sets the audience of session tokens (the relay). Default {@link #DEFAULT_RELAY_AUDIENCE}.
     *
     * @param relayAudience a non-blank string without control characters
     * @return this builder
     * @throws NullPointerException if the argument is null
     * @throws IllegalArgumentException if it is blank or has control characters
     * @throws IllegalStateException if it was already set
     */
    public Builder relayAudience(String relayAudience) {
      this.relayAudience = setOnce("relayAudience", text(relayAudience, "relayAudience"));
      return this;
    }

    /**
     * Sets the key pair that signs (EC P-256, signing ES256, or RSA of at least 2048 bits, signing RS256).
     * Default: a P-256 key generated by {@link #build()}, which lives only in memory.
     *
     * @param signingKey the key pair
     * @return this builder
     * @throws NullPointerException if the argument is null
     * @throws IllegalArgumentException if the key is of another type, curve or size
     * @throws IllegalStateException if it was already set
     */
    public Builder signingKey(KeyPair signingKey) {
      Objects.requireNonNull(signingKey, "signingKey");
      KeyRing.of(DEFAULT_ISSUER, DEFAULT_RELAY_AUDIENCE, InstantSource.system(), signingKey); // checks it
      once("signingKey", "a " + signingKey.getPublic().getAlgorithm() + " key pair");
      this.signingKey = signingKey;
      return this;
    }

    /**
     * Sets the lifetime of {@link JitAccess#issueSessionToken(Subject)}. Default
     * {@link #DEFAULT_SESSION_TOKEN_TTL}.
     *
     * @param sessionTokenTtl a positive duration
     * @return this builder
     * @throws NullPointerException if the argument is null
     * @throws IllegalArgumentException if it is not positive
     * @throws IllegalStateException if it was already set
     */
    public Builder sessionTokenTtl(Duration sessionTokenTtl) {
      this.sessionTokenTtl = setOnce("sessionTokenTtl", positive(sessionTokenTtl, "sessionTokenTtl"));
      return this;
    }

    /**
     * Sets the longest lifetime {@link JitAccess#issueSessionToken(Subject, Duration)} accepts. Default: the
     * {@link #sessionTokenTtl}. Must not be shorter than it.
     *
     * @param maxSessionTokenTtl a positive duration
     * @return this builder
     * @throws NullPointerException if the argument is null
     * @throws IllegalArgumentException if it is not positive
     * @throws IllegalStateException if it was already set
     */
    public Builder maxSessionTokenTtl(Duration maxSessionTokenTtl) {
      this.maxSessionTokenTtl =
          setOnce("maxSessionTokenTtl", positive(maxSessionTokenTtl, "maxSessionTokenTtl"));
      return this;
    }

    /**
     * Sets what happens to a grant that no audit sink recorded. Default {@link AuditFailurePolicy#FAIL_CLOSED}.
     *
     * @param auditFailurePolicy the policy
     * @return this builder
     * @throws NullPointerException if the argument is null
     * @throws IllegalStateException if it was already set
     */
    public Builder auditFailurePolicy(AuditFailurePolicy auditFailurePolicy) {
      Objects.requireNonNull(auditFailurePolicy, "auditFailurePolicy");
      this.auditFailurePolicy = setOnce("auditFailurePolicy", auditFailurePolicy);
      return this;
    }

    /**
     * Sets how many successful authentications are cached. Default {@link #DEFAULT_CACHE_SIZE}.
     *
     * @param authenticationCacheSize a positive number of entries
     * @return this builder
     * @throws IllegalArgumentException if it is not positive
     * @throws IllegalStateException if it was already set
     */
    public Builder authenticationCacheSize(long authenticationCacheSize) {
      this.authenticationCacheSize =
          setOnce("authenticationCacheSize", positive(authenticationCacheSize, "authenticationCacheSize"));
      return this;
    }

    /**
     * Sets how many grants are cached; beyond it the least used are dropped (their holders get a new grant on
     * their next request). Default {@link #DEFAULT_CACHE_SIZE}.
     *
     * @param grantCacheSize a positive number of entries
     * @return this builder
     * @throws IllegalArgumentException if it is not positive
     * @throws IllegalStateException if it was already set
     */
    public Builder grantCacheSize(long grantCacheSize) {
      this.grantCacheSize = setOnce("grantCacheSize", positive(grantCacheSize, "grantCacheSize"));
      return this;
    }

    /**
     * Builds the engine after checking the values against each other. The builder is left unchanged.
     *
     * @return a new, thread-safe engine
     * @throws IllegalStateException if {@code maxGrantTtl} is shorter than {@code grantTtl}, or
     *     {@code maxSessionTokenTtl} shorter than {@code sessionTokenTtl}
     */
    public JitAccess build() {
      if (maxGrantTtl != null && maxGrantTtl.compareTo(grantTtl) < 0) {
        throw new IllegalStateException(
            "maxGrantTtl (" + maxGrantTtl + ") must not be shorter than grantTtl (" + grantTtl + ")");
      }
      if (maxSessionTokenTtl != null && maxSessionTokenTtl.compareTo(sessionTokenTtl) < 0) {
        throw new IllegalStateException(
            "maxSessionTokenTtl ("
                + maxSessionTokenTtl
                + ") must not be shorter than sessionTokenTtl ("
                + sessionTokenTtl
                + ")");
      }
      KeyRing keyRing =
          signingKey == null
              ? KeyRing.generate(issuer, relayAudience, clock)
              : KeyRing.of(issuer, relayAudience, clock, signingKey);
      return new JitAccess(this, keyRing);
    }

    private <T> T setOnce(String name, T value) {
      once(name, String.valueOf(value));
      return value;
    }

    private void once(String name, String description) {
      String earlier = alreadySet.putIfAbsent(name, description);
      if (earlier != null) {
        throw new IllegalStateException(name + " was already set to " + earlier);
      }
    }

    static Duration positive(Duration value, String name) {
      Objects.requireNonNull(value, name);
      if (value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException(name + " must be positive but was " + value);
      }
      return value;
    }

    private static long positive(long value, String name) {
      if (value <= 0) {
        throw new IllegalArgumentException(name + " must be positive but was " + value);
      }
      return value;
    }

    private static String text(String value, String name) {
      Objects.requireNonNull(value, name);
      if (value.isBlank()) {
        throw new IllegalArgumentException(name + " must not be blank");
      }
      if (value.chars().anyMatch(Character::isISOControl)) {
        throw new IllegalArgumentException(name + " must not contain control characters");
      }
      return value;
    }
  }
}
