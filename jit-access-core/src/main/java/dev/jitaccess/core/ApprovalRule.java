package dev.jitaccess.core;

import dev.jitaccess.api.Subject;
import dev.jitaccess.core.internal.PolicyRules;
import java.time.Duration;
import java.util.Collections;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.jspecify.annotations.Nullable;

/**
 * How an <em>eligible</em> binding is activated: by an access request that enough approvers approve.
 *
 * <p>A reviewer may approve when their id is in {@code approverUsers} or one of their groups is in
 * {@code approverGroups}; the requester counts only when {@code selfApproval} is true (then the requester's
 * own approval is one of the {@code approvals} needed, whether or not they are a listed approver). With
 * {@code approvals} 0 a request is active at once, which requires {@code selfApproval}. A request lasts at
 * most {@code maxDuration} once active and stays pending at most {@code pendingTimeout}; its justification
 * must match {@code justification} (found anywhere in the text, so anchor it with {@code ^} to require a
 * prefix) when that is set.
 *
 * <p>Instances are immutable and thread-safe. {@code equals} compares the pattern by its text.
 *
 * @param selfApproval whether the requester may approve their own request
 * @param approvals how many approvals activate a request; 0 or more
 * @param approverUsers the subject ids that may approve; copied
 * @param approverGroups the groups whose members may approve; copied
 * @param maxDuration the longest active window a request may ask for; positive
 * @param justification the pattern a justification must contain a match of, or {@code null} for any text
 * @param pendingTimeout how long a request stays open for reviews; positive
 * @since 0.2.0
 */
public record ApprovalRule(
    boolean selfApproval,
    int approvals,
    Set<String> approverUsers,
    Set<String> approverGroups,
    Duration maxDuration,
    @Nullable String justification,
    Duration pendingTimeout) {

  /** The default {@code maxDuration}: one hour. */
  public static final Duration DEFAULT_MAX_DURATION = Duration.ofHours(1);

  /** The default {@code pendingTimeout}: one hour. */
  public static final Duration DEFAULT_PENDING_TIMEOUT = Duration.ofHours(1);

  /** The most approvals a rule may require. */
  public static final int MAX_APPROVALS = 100;

  /**
   * Validates and copies the components.
   *
   * @throws NullPointerException if a non-nullable component or an element is null
   * @throws IllegalArgumentException if {@code approvals} is out of 0..{@value #MAX_APPROVALS}, a duration
   *     is not positive, the pattern does not compile, {@code approvals} is 0 without {@code selfApproval},
   *     or approvals are needed but nobody could give them (no approver and no self-approval)
   */
  public ApprovalRule {
    if (approvals < 0 || approvals > MAX_APPROVALS) {
      throw new IllegalArgumentException(
          "approvals must be between 0 and " + MAX_APPROVALS + " but was " + approvals);
    }
    approverUsers = principals(approverUsers, "approver user");
    approverGroups = principals(approverGroups, "approver group");
    Objects.requireNonNull(maxDuration, "maxDuration");
    if (maxDuration.isNegative() || maxDuration.isZero()) {
      throw new IllegalArgumentException("maxDuration must be positive but was " + maxDuration);
    }
    Objects.requireNonNull(pendingTimeout, "pendingTimeout");
    if (pendingTimeout.isNegative() || pendingTimeout.isZero()) {
      throw new IllegalArgumentException("pendingTimeout must be positive but was " + pendingTimeout);
    }
    if (justification != null) {
      try {
        Pattern.compile(justification);
      } catch (PatternSyntaxException e) {
        throw new IllegalArgumentException(
            "justification must be a valid regular expression but '"
                + PolicyRules.printable(justification)
                + "' is not: "
                + e.getDescription(),
            e);
      }
    }
    if (approvals == 0 && !selfApproval) {
      throw new IllegalArgumentException(
          "approvals: 0 activates a request without any review, which needs selfApproval: true;"
              + " set approvals to 1 or more, or allow self-approval");
    }
    if (approvals > 0 && approverUsers.isEmpty() && approverGroups.isEmpty() && !selfApproval) {
      throw new IllegalArgumentException(
          "approvals: " + approvals + " needs approvers (users or groups) or selfApproval: true");
    }
  }

  /**
   * A rule where the given number of approvals from the given users and groups is needed, no self-approval,
   * and the default durations.
   *
   * @param approvals how many approvals are needed; at least 1
   * @param approverUsers subject ids that may approve
   * @param approverGroups groups whose members may approve
   * @return the rule
   * @throws IllegalArgumentException if the values are invalid (see the constructor)
   */
  public static ApprovalRule approvedBy(int approvals, Set<String> approverUsers, Set<String> approverGroups) {
    return new ApprovalRule(
        false, approvals, approverUsers, approverGroups, DEFAULT_MAX_DURATION, null, DEFAULT_PENDING_TIMEOUT);
  }

  /**
   * Whether the reviewer may approve or deny a request of {@code requester} under this rule.
   *
   * @param reviewer the reviewer
   * @param requester the requester
   * @return true for a listed approver other than the requester, and for the requester under self-approval
   */
  public boolean mayReview(Subject reviewer, Subject requester) {
    if (reviewer.id().equals(requester.id())) {
      return selfApproval;
    }
    return approverUsers.contains(reviewer.id()) || reviewer.groups().stream().anyMatch(approverGroups::contains);
  }

  /**
   * Whether a justification satisfies the pattern.
   *
   * @param text the justification
   * @return true when there is no pattern or it finds a match in {@code text}
   */
  public boolean acceptsJustification(String text) {
    return justification == null || Pattern.compile(justification).matcher(text).find();
  }

  private static Set<String> principals(Set<String> values, String what) {
    Set<String> checked = new TreeSet<>();
    for (String value : Objects.requireNonNull(values, what + "s")) {
      checked.add(PolicyRules.principal(value, what));
    }
    return Collections.unmodifiableSet(checked);
  }
}
