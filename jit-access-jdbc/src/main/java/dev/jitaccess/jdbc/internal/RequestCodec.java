package dev.jitaccess.jdbc.internal;

import com.nimbusds.jose.util.JSONArrayUtils;
import com.nimbusds.jose.util.JSONObjectUtils;
import dev.jitaccess.api.AccessRequestState.Review;
import dev.jitaccess.api.AccessRequestState.Verdict;
import dev.jitaccess.api.Permission;
import dev.jitaccess.api.Subject;
import java.text.ParseException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** JSON for the structured columns (requester, roles, permissions, reviews), with nimbus's JSON utilities. */
public final class RequestCodec {
  private RequestCodec() {}

  /** {@code {"id":..,"groups":[..],"attributes":{..}}}. */
  public static String subject(Subject s) {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("id", s.id());
    json.put("groups", new ArrayList<>(s.groups()));
    json.put("attributes", new LinkedHashMap<String, Object>(s.attributes()));
    return JSONObjectUtils.toJSONString(json);
  }

  /** The subject of {@link #subject(Subject)}. */
  public static Subject subject(String text) throws ParseException {
    Map<String, Object> json = JSONObjectUtils.parse(text);
    Map<String, String> attributes = new LinkedHashMap<>();
    Map<String, Object> raw = JSONObjectUtils.getJSONObject(json, "attributes");
    if (raw != null) {
      for (Map.Entry<String, Object> e : raw.entrySet()) {
        attributes.put(e.getKey(), String.valueOf(e.getValue()));
      }
    }
    List<String> groups = JSONObjectUtils.getStringList(json, "groups");
    return new Subject(
        JSONObjectUtils.getString(json, "id"),
        new LinkedHashSet<>(groups == null ? List.of() : groups),
        attributes);
  }

  /** A JSON array of strings. */
  public static String strings(List<String> values) {
    return JSONArrayUtils.toJSONString(new ArrayList<Object>(values));
  }

  /** The strings of {@link #strings(List)}. */
  public static List<String> strings(String text) throws ParseException {
    List<String> values = new ArrayList<>();
    for (Object o : JSONArrayUtils.parse(text)) {
      values.add((String) o);
    }
    return values;
  }

  /** {@code [{"clusterRole":..,"namespace":..}, ...]}; no namespace key for cluster-wide. */
  public static String permissions(List<Permission> permissions) {
    List<Object> json = new ArrayList<>();
    for (Permission p : permissions) {
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("clusterRole", p.clusterRole());
      if (p.namespace() != null) {
        entry.put("namespace", p.namespace());
      }
      json.add(entry);
    }
    return JSONArrayUtils.toJSONString(json);
  }

  /** The permissions of {@link #permissions(List)}. */
  public static List<Permission> permissions(String text) throws ParseException {
    List<Permission> permissions = new ArrayList<>();
    for (Object o : JSONArrayUtils.parse(text)) {
      Map<String, Object> entry = object(o);
      String namespace = JSONObjectUtils.getString(entry, "namespace");
      String role = JSONObjectUtils.getString(entry, "clusterRole");
      permissions.add(namespace == null ? Permission.clusterWide(role) : Permission.inNamespace(role, namespace));
    }
    return permissions;
  }

  /** {@code [{"reviewer":..,"verdict":"APPROVE","comment":..,"at":"<ISO instant>"}, ...]}. */
  public static String reviews(List<Review> reviews) {
    List<Object> json = new ArrayList<>();
    for (Review r : reviews) {
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("reviewer", r.reviewerId());
      entry.put("verdict", r.verdict().name());
      if (r.comment() != null) {
        entry.put("comment", r.comment());
      }
      entry.put("at", r.at().toString());
      json.add(entry);
    }
    return JSONArrayUtils.toJSONString(json);
  }

  /** The reviews of {@link #reviews(List)}. */
  public static List<Review> reviews(String text) throws ParseException {
    List<Review> reviews = new ArrayList<>();
    for (Object o : JSONArrayUtils.parse(text)) {
      Map<String, Object> entry = object(o);
      @Nullable String comment = JSONObjectUtils.getString(entry, "comment");
      reviews.add(
          new Review(
              JSONObjectUtils.getString(entry, "reviewer"),
              Verdict.valueOf(JSONObjectUtils.getString(entry, "verdict")),
              comment,
              Instant.parse(JSONObjectUtils.getString(entry, "at"))));
    }
    return reviews;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> object(Object o) throws ParseException {
    if (o instanceof Map<?, ?>) {
      return (Map<String, Object>) o;
    }
    throw new ParseException("expected a JSON object but found " + o, 0);
  }
}
