//! Strict parsing of a chat model's reply to a batch of lines.

use serde_json::Value;

use crate::prompt::UNCLASSIFIED;

/// The answer for one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineAnswer {
    /// One of the labels, spelled as in the label set.
    Label(String),
    /// The model said no label fits.
    Unclassified,
    /// No usable answer for this line; the text says why.
    Invalid(String),
}

/// A reply that answers no line at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unusable LLM answer: {0}")]
pub struct AnswerError(pub String);

/// Case- and whitespace-insensitive form of a label.
fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Removes `<think>…</think>` reasoning blocks (DeepSeek R1 and kin) and
/// Markdown code fences.
pub fn strip_reasoning(text: &str) -> Result<String, AnswerError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        match rest.find("<think>") {
            Some(i) => {
                out.push_str(&rest[..i]);
                match rest[i..].find("</think>") {
                    Some(j) => rest = &rest[i + j + "</think>".len()..],
                    None => return Err(AnswerError("the reasoning block never ended (answer cut off?)".into())),
                }
            }
            None => {
                out.push_str(rest);
                break;
            }
        }
    }
    // A reply may also close a block it never opened (the template opened it).
    if let Some(j) = out.rfind("</think>") {
        out = out[j + "</think>".len()..].to_string();
    }
    let trimmed = out.trim();
    let unfenced = trimmed
        .strip_prefix("```json")
        .or_else(|| trimmed.strip_prefix("```"))
        .map(|s| s.trim_end().trim_end_matches("```"))
        .unwrap_or(trimmed);
    Ok(unfenced.trim().to_string())
}

/// The first JSON value in `text`: the whole text, else the outermost `{…}`
/// or `[…]` span.
fn find_json(text: &str) -> Option<Value> {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return Some(v);
    }
    for (open, close) in [('{', '}'), ('[', ']')] {
        if let (Some(a), Some(b)) = (text.find(open), text.rfind(close)) {
            if a < b {
                if let Ok(v) = serde_json::from_str::<Value>(&text[a..=b]) {
                    return Some(v);
                }
            }
        }
    }
    None
}

/// The per-line values of a reply: `{"labels": [...]}`, a bare array, or an
/// object keyed by line number (`{"1": ..., "2": ...}`).
fn entries(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::Array(a) => Some(a.clone()),
        Value::Object(m) => {
            for key in ["labels", "results", "answers", "classifications"] {
                if let Some(Value::Array(a)) = m.get(key) {
                    return Some(a.clone());
                }
            }
            let mut numbered: Vec<(usize, Value)> =
                m.iter().filter_map(|(k, v)| k.trim().parse::<usize>().ok().map(|i| (i, v.clone()))).collect();
            if numbered.is_empty() {
                return None;
            }
            numbered.sort_by_key(|(i, _)| *i);
            let first = numbered[0].0;
            Some(numbered.into_iter().enumerate().map(|(pos, (i, v))| if i == first + pos { v } else { Value::Null }).collect())
        }
        _ => None,
    }
}

/// Parses a reply for `n` lines against the label set.
///
/// Returns one [`LineAnswer`] per line; an error only when nothing in the
/// reply can be read as answers.
pub fn parse_answer(text: &str, labels: &[String], n: usize) -> Result<Vec<LineAnswer>, AnswerError> {
    let body = strip_reasoning(text)?;
    if body.is_empty() {
        return Err(AnswerError("empty reply".into()));
    }
    let v =
        find_json(&body).ok_or_else(|| AnswerError(format!("no JSON in the reply: {:?}", body.chars().take(120).collect::<String>())))?;
    let list = entries(&v).ok_or_else(|| AnswerError("the JSON holds no list of labels".into()))?;
    let known: Vec<(String, &String)> = labels.iter().map(|l| (norm(l), l)).collect();
    let unclassified = norm(UNCLASSIFIED);
    Ok((0..n)
        .map(|i| {
            let raw = match list.get(i) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Object(o)) => match o.get("label") {
                    Some(Value::String(s)) => s.clone(),
                    _ => return LineAnswer::Invalid("answer has no 'label' string".into()),
                },
                Some(Value::Null) | None => return LineAnswer::Invalid("no answer for this line".into()),
                Some(other) => return LineAnswer::Invalid(format!("answer is not a label: {other}")),
            };
            let k = norm(raw.trim_matches(|c: char| c == '"' || c == '\'' || c == '.' || c.is_whitespace()));
            if k == unclassified {
                return LineAnswer::Unclassified;
            }
            match known.iter().find(|(n, _)| *n == k) {
                Some((_, l)) => LineAnswer::Label((*l).clone()),
                None => LineAnswer::Invalid(format!("'{raw}' is not one of the labels")),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Vec<String> {
        vec!["Workflow Error".into(), "Deprecation Warning".into()]
    }

    #[test]
    fn accepts_labels_in_any_case_and_spacing() {
        let a = parse_answer(r#"{"labels": ["workflow  error", "Deprecation Warning.", "UNCLASSIFIED"]}"#, &labels(), 3).unwrap();
        assert_eq!(
            a,
            [LineAnswer::Label("Workflow Error".into()), LineAnswer::Label("Deprecation Warning".into()), LineAnswer::Unclassified]
        );
    }

    #[test]
    fn strips_reasoning_and_fences_and_finds_the_json() {
        let text = "<think>The first line mentions a retired module...\n{\"labels\": [\"nope\"]}</think>\n```json\n{\"labels\": [\"Deprecation Warning\"]}\n```";
        assert_eq!(parse_answer(text, &labels(), 1).unwrap(), [LineAnswer::Label("Deprecation Warning".into())]);
        let chatty = "Sure! Here you go: [\"Workflow Error\", \"Workflow Error\"] Hope this helps.";
        assert_eq!(parse_answer(chatty, &labels(), 2).unwrap().len(), 2);
        let template_opened = "reasoning that the server's template opened </think> [\"Workflow Error\"]";
        assert_eq!(parse_answer(template_opened, &labels(), 1).unwrap(), [LineAnswer::Label("Workflow Error".into())]);
    }

    #[test]
    fn other_shapes_numbered_objects_and_label_fields() {
        let a = parse_answer(r#"{"1": "Workflow Error", "3": "Deprecation Warning"}"#, &labels(), 3).unwrap();
        assert_eq!(a[0], LineAnswer::Label("Workflow Error".into()));
        assert!(matches!(a[1], LineAnswer::Invalid(_)), "line 2 missing: {:?}", a[1]);
        let b = parse_answer(r#"{"results": [{"line": 1, "label": "Deprecation Warning"}, {"line": 2}]}"#, &labels(), 2).unwrap();
        assert_eq!(b[0], LineAnswer::Label("Deprecation Warning".into()));
        assert_eq!(b[1], LineAnswer::Invalid("answer has no 'label' string".into()));
    }

    #[test]
    fn wrong_labels_and_short_answers_fail_per_line() {
        let a = parse_answer(r#"["Security Alert", 7]"#, &labels(), 3).unwrap();
        assert_eq!(a[0], LineAnswer::Invalid("'Security Alert' is not one of the labels".into()));
        assert!(matches!(&a[1], LineAnswer::Invalid(r) if r.contains("not a label")));
        assert_eq!(a[2], LineAnswer::Invalid("no answer for this line".into()));
    }

    #[test]
    fn unusable_replies_are_errors_not_panics() {
        for text in ["", "   ", "I cannot help with that.", "{\"labels\": ", "<think>still thinking", "{\"x\": 1}", "42", "```\n```"] {
            assert!(parse_answer(text, &labels(), 2).is_err(), "{text:?}");
        }
        // Truncated JSON inside otherwise fine text.
        assert!(parse_answer("{\"labels\": [\"Workflow Error\", \"Depre", &labels(), 2).is_err());
    }
}
