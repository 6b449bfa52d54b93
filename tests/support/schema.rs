//! Checks a JSON value against the subset of JSON Schema our OpenAPI
//! document uses (`$ref`, `type` with `null`, `enum`, `required`,
//! `properties`, `additionalProperties: false`, `items`, `anyOf`,
//! `minimum`/`maximum`), so tests can hold real responses to the document.

use serde_json::Value;

/// What in `value` the schema does not allow, one line per finding.
pub fn violations(document: &Value, schema: &Value, value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    check(document, schema, value, "$", &mut found);
    found
}

fn check(document: &Value, schema: &Value, value: &Value, at: &str, found: &mut Vec<String>) {
    if let Some(reference) = schema["$ref"].as_str() {
        let path = reference.trim_start_matches("#/").split('/');
        let target = path.fold(document, |node, key| &node[key]);
        return check(document, target, value, at, found);
    }
    if let Some(options) = schema["anyOf"].as_array() {
        let fits = options.iter().any(|option| {
            let mut inner = Vec::new();
            check(document, option, value, at, &mut inner);
            inner.is_empty()
        });
        if !fits {
            found.push(format!("{at}: fits none of anyOf"));
        }
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.is_empty() && !types.iter().any(|t| is_type(value, t)) {
        found.push(format!("{at}: {value} is not {types:?}"));
        return;
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !value.is_null()
        && !allowed.contains(value)
    {
        found.push(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let Some(n) = value.as_f64() {
        if schema["minimum"].as_f64().is_some_and(|min| n < min) {
            found.push(format!("{at}: {n} is below the minimum"));
        }
        if schema["maximum"].as_f64().is_some_and(|max| n > max) {
            found.push(format!("{at}: {n} is above the maximum"));
        }
    }
    if let Value::Object(object) = value {
        for key in schema["required"].as_array().into_iter().flatten() {
            let key = key.as_str().unwrap_or_default();
            if !object.contains_key(key) {
                found.push(format!("{at}: `{key}` is required but missing"));
            }
        }
        let properties = schema["properties"].as_object();
        for (key, item) in object {
            match properties.and_then(|p| p.get(key)) {
                Some(property) => check(document, property, item, &format!("{at}.{key}"), found),
                None if schema["additionalProperties"] == Value::Bool(false) => {
                    found.push(format!("{at}: `{key}` is not in the document"));
                }
                None => {}
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check(document, item_schema, item, &format!("{at}[{i}]"), found);
        }
    }
}

fn is_type(value: &Value, name: &str) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "integer" => value.as_f64().is_some_and(|n| n.fract() == 0.0),
        "number" => value.is_number(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => true,
    }
}
