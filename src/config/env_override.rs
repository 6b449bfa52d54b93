//! `SLUSHPILE_<SECTION>__<KEY>=value` overrides a scalar setting, e.g.
//! `SLUSHPILE_STORE__URL`. Arrays of tables are addressed by their `name`
//! or index: `SLUSHPILE_MAILBOX__SUBMISSIONS__HOST` or `SLUSHPILE_MAILBOX__0__HOST`.

use toml::Value;

const PREFIX: &str = "SLUSHPILE_";

pub(super) fn apply(
    root: &mut Value,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(), (String, String)> {
    for (name, raw) in env {
        let Some(rest) = name.strip_prefix(PREFIX) else {
            continue;
        };
        // SLUSHPILE_CONFIG names the file itself, not a setting.
        if !rest.contains("__") {
            continue;
        }
        let path: Vec<String> = rest.split("__").map(str::to_lowercase).collect();
        set(root, &path, &raw)
            .map_err(|message| (format!("{name} ({})", path.join(".")), message))?;
    }
    Ok(())
}

fn set(node: &mut Value, path: &[String], raw: &str) -> Result<(), String> {
    let (head, tail) = path.split_first().ok_or("empty key")?;
    match node {
        Value::Table(table) if tail.is_empty() => {
            let value = match table.get(head) {
                Some(Value::Array(_) | Value::Table(_)) => {
                    return Err("only scalar settings can be overridden".into());
                }
                Some(existing) => coerce_like(existing, raw)?,
                None => infer(raw),
            };
            table.insert(head.clone(), value);
            Ok(())
        }
        Value::Table(table) => {
            let child = table
                .entry(head.clone())
                .or_insert_with(|| Value::Table(Default::default()));
            set(child, tail, raw)
        }
        Value::Array(items) if !tail.is_empty() => set(find_item(items, head)?, tail, raw),
        _ => Err(format!("`{head}` does not name a setting")),
    }
}

fn find_item<'a>(items: &'a mut [Value], key: &str) -> Result<&'a mut Value, String> {
    if let Ok(index) = key.parse::<usize>() {
        let len = items.len();
        return items
            .get_mut(index)
            .ok_or(format!("index {index} out of range (there are {len})"));
    }
    items
        .iter_mut()
        .find(|item| {
            item.get("name")
                .and_then(Value::as_str)
                .is_some_and(|name| name.eq_ignore_ascii_case(key))
        })
        .ok_or(format!("no entry named `{key}`"))
}

fn coerce_like(existing: &Value, raw: &str) -> Result<Value, String> {
    Ok(match existing {
        Value::Integer(_) => Value::Integer(
            raw.parse()
                .map_err(|_| format!("expected an integer, got `{raw}`"))?,
        ),
        Value::Boolean(_) => Value::Boolean(
            raw.parse()
                .map_err(|_| format!("expected true or false, got `{raw}`"))?,
        ),
        Value::Float(_) => Value::Float(
            raw.parse()
                .map_err(|_| format!("expected a number, got `{raw}`"))?,
        ),
        _ => Value::String(raw.to_string()),
    })
}

fn infer(raw: &str) -> Value {
    if let Ok(i) = raw.parse::<i64>() {
        Value::Integer(i)
    } else if let Ok(b) = raw.parse::<bool>() {
        Value::Boolean(b)
    } else {
        Value::String(raw.to_string())
    }
}
