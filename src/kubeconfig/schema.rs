//! What kubectl requires of a kubeconfig beyond YAML: the types of its
//! fields (client-go's `clientcmd/api/v1`), base64 in the `*-data` fields,
//! and names that are unique within each list. A file that breaks one of
//! these is refused with the place and the reason, as kubectl refuses it.

use std::collections::HashSet;

use serde_json::Value;

use crate::yaml::{self, Segment};

/// What a field must hold; `null` is always accepted (Go leaves the field empty).
enum Shape {
    Text,
    Bool,
    /// `[]byte` in Go: standard base64 with padding, line breaks ignored.
    Base64,
    /// `insecure-skip-tls-verify`: Huawei sends `"true"`, kubectl writes `true`.
    BoolOrBoolText,
    Object(&'static [(&'static str, Shape)]),
    List(&'static Shape),
    /// A list of `{name: ...}` entries that kubectl turns into a map.
    Named(&'static Shape),
    /// A mapping whose every value has one shape.
    MapOf(&'static Shape),
    Any,
}

use Shape::*;

const EXTENSIONS: Shape = Named(&Object(&[("name", Text), ("extension", Any)]));

const CLUSTER: Shape = Object(&[
    ("server", Text),
    ("tls-server-name", Text),
    ("insecure-skip-tls-verify", BoolOrBoolText),
    ("certificate-authority", Text),
    ("certificate-authority-data", Base64),
    ("proxy-url", Text),
    ("disable-compression", Bool),
    ("extensions", EXTENSIONS),
]);

const EXEC: Shape = Object(&[
    ("command", Text),
    ("args", List(&Text)),
    ("env", List(&Object(&[("name", Text), ("value", Text)]))),
    ("apiVersion", Text),
    ("installHint", Text),
    ("provideClusterInfo", Bool),
    ("interactiveMode", Text),
]);

const USER: Shape = Object(&[
    ("client-certificate", Text),
    ("client-certificate-data", Base64),
    ("client-key", Text),
    ("client-key-data", Base64),
    ("token", Text),
    ("tokenFile", Text),
    ("as", Text),
    ("as-uid", Text),
    ("as-groups", List(&Text)),
    ("as-user-extra", MapOf(&List(&Text))),
    ("username", Text),
    ("password", Text),
    (
        "auth-provider",
        Object(&[("name", Text), ("config", MapOf(&Text))]),
    ),
    ("exec", EXEC),
    ("extensions", EXTENSIONS),
]);

const CONTEXT: Shape = Object(&[
    ("cluster", Text),
    ("user", Text),
    ("namespace", Text),
    ("extensions", EXTENSIONS),
]);

const KUBECONFIG: Shape = Object(&[
    ("apiVersion", Text),
    ("kind", Text),
    (
        "preferences",
        Object(&[("colors", Bool), ("extensions", EXTENSIONS)]),
    ),
    (
        "clusters",
        Named(&Object(&[("name", Text), ("cluster", CLUSTER)])),
    ),
    ("users", Named(&Object(&[("name", Text), ("user", USER)]))),
    (
        "contexts",
        Named(&Object(&[("name", Text), ("context", CONTEXT)])),
    ),
    ("current-context", Text),
    ("extensions", EXTENSIONS),
]);

/// The first place where `tree` breaks what kubectl requires, and why.
pub fn first_mismatch(tree: &Value) -> Option<(Vec<Segment>, String)> {
    let mut path = Vec::new();
    check(tree, &KUBECONFIG, &mut path).map(|reason| (path, reason))
}

fn check(value: &Value, shape: &Shape, path: &mut Vec<Segment>) -> Option<String> {
    let fits = match (shape, value) {
        (_, Value::Null) | (Any, _) | (Text, Value::String(_)) | (Bool, Value::Bool(_)) => true,
        (Base64, Value::String(text)) => {
            if !yaml::is_go_base64(text) {
                return Some("not valid base64".to_owned());
            }
            true
        }
        (BoolOrBoolText, Value::Bool(_)) => true,
        (BoolOrBoolText, Value::String(text)) => {
            matches!(text.to_ascii_lowercase().as_str(), "true" | "false")
        }
        (Object(fields), Value::Object(map)) => {
            for (name, field_shape) in fields.iter() {
                if let Some(field) = map.get(*name) {
                    path.push(Segment::Key((*name).to_owned()));
                    if let Some(reason) = check(field, field_shape, path) {
                        return Some(reason);
                    }
                    path.pop();
                }
            }
            true
        }
        (MapOf(value_shape), Value::Object(map)) => {
            for (key, field) in map {
                path.push(Segment::Key(key.clone()));
                if let Some(reason) = check(field, value_shape, path) {
                    return Some(reason);
                }
                path.pop();
            }
            true
        }
        (List(item_shape) | Named(item_shape), Value::Array(items)) => {
            for (index, item) in items.iter().enumerate() {
                path.push(Segment::Index(index));
                if let Some(reason) = check(item, item_shape, path) {
                    return Some(reason);
                }
                path.pop();
            }
            if matches!(shape, Named(_)) {
                return repeated_name(items, path);
            }
            true
        }
        _ => false,
    };
    (!fits).then(|| format!("expected {}, found {}", expected(shape), type_name(value)))
}

/// kubectl turns a named list into a map and refuses a name seen twice (a
/// missing name is the empty one).
fn repeated_name(items: &[Value], path: &mut Vec<Segment>) -> Option<String> {
    let mut seen = HashSet::new();
    let index = items.iter().position(|item| {
        let name = item.get("name").and_then(Value::as_str).unwrap_or_default();
        !seen.insert(name)
    })?;
    path.extend([Segment::Index(index), Segment::Key("name".to_owned())]);
    Some("an earlier entry of this list has the same name".to_owned())
}

fn expected(shape: &Shape) -> &'static str {
    match shape {
        Text | Base64 => "a string",
        Bool | BoolOrBoolText => "true or false",
        Object(_) | MapOf(_) => "a mapping",
        List(_) | Named(_) => "a list",
        Any => "anything",
    }
}

/// What a value is, for messages: `a string`, `a list`, ...
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::yaml::PathDisplay;

    fn mismatch(tree: Value) -> Option<String> {
        first_mismatch(&tree).map(|(path, reason)| format!("{}: {reason}", PathDisplay(&path)))
    }

    #[test]
    fn names_the_first_wrong_field_with_its_path() {
        assert_eq!(
            mismatch(json!({"users": [{"name": "a"}, {"name": "b", "user": {"token": true}}]})),
            Some("users[1].user.token: expected a string, found a boolean".to_owned())
        );
        assert_eq!(
            mismatch(json!({"clusters": [{"name": "c", "cluster": {"insecure-skip-tls-verify": "maybe"}}]})),
            Some("clusters[0].cluster.insecure-skip-tls-verify: expected true or false, found a string".to_owned())
        );
        assert_eq!(
            mismatch(json!({"contexts": {"a": 1}})),
            Some("contexts: expected a list, found a mapping".to_owned())
        );
        assert_eq!(
            mismatch(json!({"preferences": {"colors": 1}})),
            Some("preferences.colors: expected true or false, found a number".to_owned())
        );
    }

    #[test]
    fn data_fields_are_base64_as_go_decodes_it() {
        for good in ["", "QQ==", "QR==", "RkFLRQ==", "RkFL\nRQ==\r\n"] {
            let tree = json!({"users": [{"name": "u", "user": {"client-key-data": good}}]});
            assert_eq!(mismatch(tree), None, "{good:?}");
        }
        for bad in ["QQ", "QQ=", "Q Q==", "QQ==QQ==", "not-base64!", "DATA="] {
            let tree = json!({"clusters": [{"name": "c", "cluster": {"certificate-authority-data": bad}}]});
            assert_eq!(
                mismatch(tree),
                Some("clusters[0].cluster.certificate-authority-data: not valid base64".to_owned()),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn exec_and_auth_provider_fields_are_typed() {
        assert_eq!(
            mismatch(
                json!({"users": [{"name": "u", "user": {"exec": {"provideClusterInfo": "yes"}}}]})
            ),
            Some(
                "users[0].user.exec.provideClusterInfo: expected true or false, found a string"
                    .to_owned()
            )
        );
        assert_eq!(
            mismatch(
                json!({"users": [{"name": "u", "user": {"exec": {"args": ["--port", 8080]}}}]})
            ),
            Some("users[0].user.exec.args[1]: expected a string, found a number".to_owned())
        );
        assert_eq!(
            mismatch(
                json!({"users": [{"name": "u", "user": {"auth-provider": {"config": {"expiry": 5}}}}]})
            ),
            Some(
                "users[0].user.auth-provider.config.expiry: expected a string, found a number"
                    .to_owned()
            )
        );
        assert_eq!(
            mismatch(
                json!({"users": [{"name": "u", "user": {"exec": {"command": "x", "future": [1]}}}]})
            ),
            None
        );
    }

    #[test]
    fn a_name_used_twice_in_a_list_is_named() {
        assert_eq!(
            mismatch(json!({"contexts": [{"name": "a"}, {"name": "b"}, {"name": "a"}]})),
            Some("contexts[2].name: an earlier entry of this list has the same name".to_owned())
        );
        assert_eq!(
            mismatch(json!({"clusters": [{"name": "c", "cluster": {"extensions": [{"name": "e"}, {"name": "e"}]}}]})),
            Some("clusters[0].cluster.extensions[1].name: an earlier entry of this list has the same name".to_owned())
        );
        // A missing name is the empty one: one is fine, two are not.
        assert_eq!(mismatch(json!({"users": [{"name": "u"}, {}]})), None);
        assert!(mismatch(json!({"users": [{}, {"name": null}]})).is_some());
    }

    #[test]
    fn null_and_unknown_fields_are_fine() {
        assert_eq!(
            mismatch(
                json!({"clusters": null, "users": [{"name": null, "user": null, "x": [1]}],
                            "current-context": null, "future": {"a": 1}})
            ),
            None
        );
    }
}
