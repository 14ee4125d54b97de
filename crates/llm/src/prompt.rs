//! Building the chat request for a batch of lines.

use serde_json::{json, Value};

/// A label the model may give, with what it means.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelSpec {
    /// The label as written in the output.
    pub name: String,
    /// One line saying what it means (may be empty).
    pub description: String,
}

/// A labeled line shown to the model as guidance.
#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    /// The line (or its template).
    pub line: String,
    /// Its label.
    pub label: String,
}

/// A line to classify.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// The source system.
    pub source: String,
    /// The line.
    pub line: String,
}

/// The label given when none fits.
pub const UNCLASSIFIED: &str = "Unclassified";

/// Lines longer than this many characters are cut in the prompt (the model
/// needs the gist, and a runaway line must not blow the context window).
pub const MAX_LINE_CHARS: usize = 1_000;

/// `s` cut to [`MAX_LINE_CHARS`] characters, with an ellipsis when cut.
pub fn clip(s: &str) -> String {
    match s.char_indices().nth(MAX_LINE_CHARS) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// The system message: task, labels, answer format.
pub fn system_message(labels: &[LabelSpec]) -> String {
    let mut s = String::from(
        "You classify log lines for an operations team. Give each numbered line exactly one label from this list, \
         or \"Unclassified\" when none fits:\n",
    );
    for l in labels {
        if l.description.is_empty() {
            s.push_str(&format!("- {}\n", l.name));
        } else {
            s.push_str(&format!("- {}: {}\n", l.name, l.description));
        }
    }
    s.push_str(
        "Answer with JSON only, no prose: {\"labels\": [\"<label of line 1>\", \"<label of line 2>\", ...]}, \
         one label per line, in the order of the lines.",
    );
    s
}

/// The user message: guidance examples, then the numbered lines.
pub fn user_message(examples: &[Example], items: &[Item]) -> String {
    let mut s = String::new();
    if !examples.is_empty() {
        s.push_str("Labeled examples:\n");
        for e in examples {
            s.push_str(&format!("{} => {}\n", clip(&e.line), e.label));
        }
        s.push('\n');
    }
    s.push_str(&format!("Classify these {} lines:\n", items.len()));
    for (i, it) in items.iter().enumerate() {
        // JSON-quote the line so that newlines or quotes inside it cannot
        // break the numbering.
        let line = serde_json::to_string(&clip(&it.line)).unwrap_or_default();
        if it.source.is_empty() {
            s.push_str(&format!("{}. {line}\n", i + 1));
        } else {
            s.push_str(&format!("{}. [{}] {line}\n", i + 1, it.source));
        }
    }
    s
}

/// A JSON schema for the answer: `{"labels": [enum of labels + Unclassified]}`
/// with exactly `n` items.
pub fn answer_schema(labels: &[LabelSpec], n: usize) -> Value {
    let mut names: Vec<&str> = labels.iter().map(|l| l.name.as_str()).collect();
    names.push(UNCLASSIFIED);
    json!({
        "type": "object",
        "properties": {
            "labels": {
                "type": "array",
                "items": {"type": "string", "enum": names},
                "minItems": n,
                "maxItems": n
            }
        },
        "required": ["labels"]
    })
}

/// The `messages` array of a chat-completions request.
pub fn messages(labels: &[LabelSpec], examples: &[Example], items: &[Item]) -> Value {
    json!([
        {"role": "system", "content": system_message(labels)},
        {"role": "user", "content": user_message(examples, items)}
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Vec<LabelSpec> {
        vec![
            LabelSpec { name: "Workflow Error".into(), description: "a business process could not proceed".into() },
            LabelSpec { name: "Deprecation Warning".into(), description: String::new() },
        ]
    }

    #[test]
    fn system_message_lists_every_label_and_the_format() {
        let s = system_message(&labels());
        assert!(s.contains("- Workflow Error: a business process could not proceed\n"));
        assert!(s.contains("- Deprecation Warning\n"));
        assert!(s.contains("\"Unclassified\"") && s.contains("{\"labels\""));
    }

    #[test]
    fn lines_are_numbered_quoted_and_clipped() {
        let items = vec![
            Item { source: "LegacyCRM".into(), line: "Quote 1 \"failed\"\nsecond line".into() },
            Item { source: String::new(), line: "x".repeat(5_000) },
        ];
        let u = user_message(&[Example { line: "Refund stalled".into(), label: "Workflow Error".into() }], &items);
        assert!(u.starts_with("Labeled examples:\nRefund stalled => Workflow Error\n"));
        assert!(u.contains("Classify these 2 lines:\n1. [LegacyCRM] \"Quote 1 \\\"failed\\\"\\nsecond line\"\n"), "{u}");
        let line2 = u.lines().last().unwrap();
        assert!(line2.starts_with("2. \"") && line2.chars().count() < MAX_LINE_CHARS + 10, "clipped: {}", line2.len());
        assert_eq!(
            u.lines().filter(|l| l.starts_with(|c: char| c.is_ascii_digit())).count(),
            2,
            "a newline in a line cannot add a numbered line"
        );
    }

    #[test]
    fn schema_enumerates_labels_and_fixes_the_count() {
        let v = answer_schema(&labels(), 3);
        let items = &v["properties"]["labels"];
        assert_eq!(items["items"]["enum"], json!(["Workflow Error", "Deprecation Warning", "Unclassified"]));
        assert_eq!((items["minItems"].as_u64(), items["maxItems"].as_u64()), (Some(3), Some(3)));
        let m = messages(&labels(), &[], &[Item { source: "s".into(), line: "l".into() }]);
        assert_eq!(m[0]["role"], "system");
        assert_eq!(m[1]["role"], "user");
    }
}
