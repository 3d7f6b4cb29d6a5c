//! How big what people send may be, and what it may contain. Every text a user (or a webhook)
//! can cause to be stored is bounded, holds no NUL character, and every link is plain
//! `http(s)`: a desktop opens only those. A refusal names the field and the limit in words.

use super::error::{AppError, AppResult};
use crate::protocol::is_web_link;

/// A task's title.
pub const TITLE: usize = 500;
/// A task's description.
pub const DESCRIPTION: usize = 20_000;
/// One label, and how many a task may carry.
pub const LABEL: usize = 80;
pub const LABELS: usize = 50;
/// Names: people, organizations, devices, statuses.
pub const NAME: usize = 200;
/// A git branch name.
pub const BRANCH: usize = 255;
/// A link (pull request, issue, avatar).
pub const URL: usize = crate::protocol::MAX_LINK;
/// Anything else short: keys, e-mail addresses, secrets.
pub const SHORT: usize = 320;

/// 400 unless `value` is at most `max` characters and holds no NUL.
pub fn text(field: &str, value: &str, max: usize) -> AppResult<()> {
    if value.contains('\0') {
        return Err(AppError::BadRequest(format!(
            "{field} contains a NUL character, which is not allowed"
        )));
    }
    let length = value.chars().count();
    if length > max {
        return Err(AppError::BadRequest(format!(
            "{field} is too long: at most {max} characters, not {length}"
        )));
    }
    Ok(())
}

/// As [`text`], for an optional value.
pub fn optional_text(field: &str, value: Option<&str>, max: usize) -> AppResult<()> {
    value.map_or(Ok(()), |v| text(field, v, max))
}

/// Where in `value` a text holds a NUL character (`title`, `labels[2]`, `data.title`), if
/// anywhere.
pub fn nul_at(value: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::String(text) => text.contains('\0').then(|| path.to_owned()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_at(item, &format!("{path}[{i}]"))),
        Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                return Some(join(key));
            }
            nul_at(item, &join(key))
        }),
        _ => None,
    }
}

/// 400 naming the field when a text anywhere in `value` holds a NUL character.
pub fn refuse_nul(value: &serde_json::Value) -> AppResult<()> {
    match nul_at(value, "") {
        Some(path) => {
            let field = if path.is_empty() { "the body" } else { &path };
            Err(AppError::BadRequest(format!(
                "{field} contains a NUL character, which is not allowed"
            )))
        }
        None => Ok(()),
    }
}

/// 400 unless each label is short enough and there are not too many.
pub fn labels(labels: &[String]) -> AppResult<()> {
    if labels.len() > LABELS {
        return Err(AppError::BadRequest(format!(
            "labels: at most {LABELS} labels, not {}",
            labels.len()
        )));
    }
    labels.iter().try_for_each(|l| text("a label", l, LABEL))
}

/// 400 unless `value` is an `http(s)` link (see [`is_web_link`]).
pub fn web_url_field(field: &str, value: &str) -> AppResult<()> {
    if is_web_link(value) {
        Ok(())
    } else {
        Err(AppError::BadRequest(format!(
            "{field} must be an http:// or https:// link of at most {URL} characters"
        )))
    }
}

/// `value` when it is an `http(s)` link, else nothing (for what webhooks send: a bad link is
/// dropped rather than stored).
pub fn web_url(value: Option<&str>) -> Option<String> {
    value.filter(|v| is_web_link(v)).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_refuses_nul_and_length_naming_the_field() {
        let nul = text("title", "a\0b", 10).unwrap_err().to_string();
        assert!(nul.contains("title") && nul.contains("NUL"), "{nul}");
        let long = text("title", &"é".repeat(11), 10).unwrap_err().to_string();
        assert!(long.contains("title") && long.contains("10"), "{long}");
        assert!(text("title", &"é".repeat(10), 10).is_ok());
    }
}
