//! The types kubectl requires of the kubeconfig fields kubefetch models,
//! to say which field of a file is wrong and why. Only consulted after the
//! model refused a tree, so it never costs a successful read anything.

use serde_json::Value;

use crate::yaml::Segment;

/// What a field must hold; `null` is always accepted (Go leaves the field empty).
enum Shape {
    Text,
    Bool,
    /// `insecure-skip-tls-verify`: Huawei sends `"true"`, kubectl writes `true`.
    BoolOrBoolText,
    Object(&'static [(&'static str, Shape)]),
    List(&'static Shape),
    /// An object whose other fields may hold anything.
    AnyObject,
    Any,
}

use Shape::*;

const EXTENSIONS: Shape = List(&Object(&[("name", Text), ("extension", Any)]));

const CLUSTER: Shape = Object(&[
    ("server", Text),
    ("tls-server-name", Text),
    ("insecure-skip-tls-verify", BoolOrBoolText),
    ("certificate-authority", Text),
    ("certificate-authority-data", Text),
    ("proxy-url", Text),
    ("extensions", EXTENSIONS),
]);

const USER: Shape = Object(&[
    ("client-certificate", Text),
    ("client-certificate-data", Text),
    ("client-key", Text),
    ("client-key-data", Text),
    ("token", Text),
    ("tokenFile", Text),
    ("username", Text),
    ("password", Text),
    ("auth-provider", AnyObject),
    ("exec", AnyObject),
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
        List(&Object(&[("name", Text), ("cluster", CLUSTER)])),
    ),
    ("users", List(&Object(&[("name", Text), ("user", USER)]))),
    (
        "contexts",
        List(&Object(&[("name", Text), ("context", CONTEXT)])),
    ),
    ("current-context", Text),
    ("extensions", EXTENSIONS),
]);

/// The first field of `tree` whose type the model cannot take, and why.
pub fn first_mismatch(tree: &Value) -> Option<(Vec<Segment>, String)> {
    let mut path = Vec::new();
    check(tree, &KUBECONFIG, &mut path).map(|reason| (path, reason))
}

fn check(value: &Value, shape: &Shape, path: &mut Vec<Segment>) -> Option<String> {
    let fits = match (shape, value) {
        (_, Value::Null) | (Any, _) | (Text, Value::String(_)) | (Bool, Value::Bool(_)) => true,
        (BoolOrBoolText, Value::Bool(_)) => true,
        (BoolOrBoolText, Value::String(text)) => {
            matches!(text.to_ascii_lowercase().as_str(), "true" | "false")
        }
        (AnyObject, Value::Object(_)) => true,
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
        (List(item_shape), Value::Array(items)) => {
            for (index, item) in items.iter().enumerate() {
                path.push(Segment::Index(index));
                if let Some(reason) = check(item, item_shape, path) {
                    return Some(reason);
                }
                path.pop();
            }
            true
        }
        _ => false,
    };
    (!fits).then(|| format!("expected {}, found {}", expected(shape), found(value)))
}

fn expected(shape: &Shape) -> &'static str {
    match shape {
        Text => "a string",
        Bool | BoolOrBoolText => "true or false",
        Object(_) | AnyObject => "a mapping",
        List(_) => "a list",
        Any => "anything",
    }
}

fn found(value: &Value) -> &'static str {
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
