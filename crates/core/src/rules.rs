//! The rules tier: regular expressions for known, recurring lines.
//!
//! A `rules.toml` holds an array of `[[rule]]` tables:
//!
//! ```toml
//! [[rule]]
//! id = "backup-completed"          # unique, goes into the output
//! label = "System Notification"
//! regex = '^Backup (completed|finished) successfully\.?$'
//! sources = ["ModernCRM"]          # optional: only lines of these sources
//! note = "nightly job"             # optional, for people
//! ```
//!
//! All patterns are compiled once into one [`regex::RegexSet`], so a line is
//! matched against every rule in a single pass. When several rules match, the
//! first in file order whose source scope admits the line wins. The `regex`
//! crate matches in time linear in the line, whatever the pattern: a rule file
//! cannot make logsift backtrack for ever, unlike Python's `re`. Compiled size
//! is capped ([`RULES_SIZE_LIMIT`]) so a rule file cannot exhaust memory either.
//!
//! Rules always see the raw line, never the masked template.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use regex::RegexSetBuilder;
use serde::{Deserialize, Serialize};

use crate::record::{Decision, Detail, TierKind};
use crate::tier::{Query, Tier, TierError, Verdict};

/// Upper bound on the compiled size of all rules together (bytes).
pub const RULES_SIZE_LIMIT: usize = 64 << 20;

/// One rule as written in `rules.toml`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Unique id, written to the output's `detail` column.
    pub id: String,
    /// The label given to matching lines.
    pub label: String,
    /// The pattern, in the syntax of the `regex` crate.
    pub regex: String,
    /// Sources the rule applies to; absent = all sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sources: Option<Vec<String>>,
    /// Free text for people (e.g. support and purity of a mined rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The contents of a `rules.toml`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesFile {
    /// The rules, in priority order.
    #[serde(default)]
    pub rule: Vec<Rule>,
}

/// A rule file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The file could not be read.
    #[error("{file}: cannot read rules: {source}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML of the expected shape.
    #[error("{file}: not a valid rules file: {message}")]
    Parse {
        /// The file.
        file: PathBuf,
        /// The TOML error, with line and column.
        message: String,
    },
    /// A rule's pattern does not compile.
    #[error("{file}: rule '{id}': bad regex {regex:?}: {message}")]
    BadRegex {
        /// The file.
        file: PathBuf,
        /// The rule's id.
        id: String,
        /// The pattern.
        regex: String,
        /// The compiler's message.
        message: String,
    },
    /// Two rules share an id.
    #[error("{file}: duplicate rule id '{id}' (rules {first} and {second})")]
    DuplicateId {
        /// The file.
        file: PathBuf,
        /// The id.
        id: String,
        /// 1-based position of the first rule with it.
        first: usize,
        /// 1-based position of the second.
        second: usize,
    },
    /// A rule has an empty id, label or pattern.
    #[error("{file}: rule {index} ('{id}'): {message}")]
    Invalid {
        /// The file.
        file: PathBuf,
        /// 1-based position.
        index: usize,
        /// The id (may be empty).
        id: String,
        /// What is wrong.
        message: String,
    },
    /// All rules together exceed the compiled size limit.
    #[error("{file}: the rules together exceed the size limit of {limit} bytes once compiled: {message}")]
    TooLarge {
        /// The file.
        file: PathBuf,
        /// The limit.
        limit: usize,
        /// The compiler's message.
        message: String,
    },
}

impl RulesFile {
    /// Parses TOML text; `file` names it in errors.
    pub fn parse(text: &str, file: &Path) -> Result<Self, RulesError> {
        toml::from_str(text).map_err(|e| RulesError::Parse { file: file.to_path_buf(), message: e.to_string() })
    }

    /// Reads and parses a rules file.
    pub fn read(file: &Path) -> Result<Self, RulesError> {
        let text = std::fs::read_to_string(file).map_err(|source| RulesError::Io { file: file.to_path_buf(), source })?;
        Self::parse(&text, file)
    }

    /// The file as TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("rules serialise to TOML")
    }
}

/// The compiled rules: the rules tier.
pub struct RulesTier {
    set: regex::RegexSet,
    rules: Vec<CompiledRule>,
}

struct CompiledRule {
    id: Arc<str>,
    label: Arc<str>,
    sources: Option<HashSet<String>>,
}

impl RulesTier {
    /// Compiles `rules`; `file` names the origin in errors.
    pub fn compile(rules: &RulesFile, file: &Path) -> Result<Self, RulesError> {
        let mut seen: std::collections::HashMap<&str, usize> = Default::default();
        for (i, r) in rules.rule.iter().enumerate() {
            let invalid =
                |message: &str| RulesError::Invalid { file: file.to_path_buf(), index: i + 1, id: r.id.clone(), message: message.into() };
            if r.id.trim().is_empty() {
                return Err(invalid("empty id"));
            }
            if r.label.trim().is_empty() {
                return Err(invalid("empty label"));
            }
            if r.regex.is_empty() {
                return Err(invalid("empty regex (it would match every line)"));
            }
            if let Some(first) = seen.insert(&r.id, i + 1) {
                return Err(RulesError::DuplicateId { file: file.to_path_buf(), id: r.id.clone(), first, second: i + 1 });
            }
            // Compile each alone first, so an error names its rule.
            if let Err(e) = regex::RegexBuilder::new(&r.regex).size_limit(RULES_SIZE_LIMIT).build() {
                return Err(RulesError::BadRegex {
                    file: file.to_path_buf(),
                    id: r.id.clone(),
                    regex: r.regex.clone(),
                    message: e.to_string(),
                });
            }
        }
        let set = RegexSetBuilder::new(rules.rule.iter().map(|r| &r.regex))
            .size_limit(RULES_SIZE_LIMIT)
            .dfa_size_limit(RULES_SIZE_LIMIT)
            .build()
            .map_err(|e| RulesError::TooLarge { file: file.to_path_buf(), limit: RULES_SIZE_LIMIT, message: e.to_string() })?;
        let compiled = rules
            .rule
            .iter()
            .map(|r| CompiledRule {
                id: Arc::from(r.id.as_str()),
                label: Arc::from(r.label.trim()),
                sources: r.sources.as_ref().map(|s| s.iter().cloned().collect()),
            })
            .collect();
        Ok(RulesTier { set, rules: compiled })
    }

    /// Reads and compiles a rules file.
    pub fn load(file: &Path) -> Result<Self, RulesError> {
        Self::compile(&RulesFile::read(file)?, file)
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The labels the rules can give.
    pub fn labels(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| &*r.label)
    }

    /// The index of the winning rule for a line, if any.
    pub fn matching_rule(&self, source: &str, message: &str) -> Option<usize> {
        if self.rules.is_empty() {
            return None;
        }
        self.set.matches(message).into_iter().find(|&i| self.rules[i].sources.as_ref().is_none_or(|s| s.contains(source)))
    }

    /// The decision for a line, if a rule matches.
    pub fn decide_one(&self, source: &str, message: &str) -> Option<Decision> {
        self.matching_rule(source, message).map(|i| {
            let r = &self.rules[i];
            Decision { label: r.label.clone(), tier: TierKind::Rules, confidence: 1.0, detail: Detail::Rule(r.id.clone()) }
        })
    }
}

impl Tier for RulesTier {
    fn kind(&self) -> TierKind {
        TierKind::Rules
    }

    fn decide(&self, queries: &[Query<'_>]) -> Result<Vec<Verdict>, TierError> {
        let miss: Arc<str> = Arc::from("no rule matched");
        Ok(queries
            .iter()
            .map(|q| match self.decide_one(q.source, q.message) {
                Some(d) => Verdict::Decided(d),
                None => Verdict::Pass(miss.clone()),
            })
            .collect())
    }

    fn describe(&self) -> String {
        format!("rules ({} rules)", self.rules.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tier(text: &str) -> Result<RulesTier, RulesError> {
        RulesTier::compile(&RulesFile::parse(text, Path::new("r.toml"))?, Path::new("r.toml"))
    }

    const RULES: &str = r#"
[[rule]]
id = "login"
label = "User Action"
regex = 'User \w+ logged (in|out)'

[[rule]]
id = "crm-login"
label = "Security Alert"
regex = 'logged in'
sources = ["LegacyCRM"]

[[rule]]
id = "any-login"
label = "Other"
regex = 'logged'
"#;

    #[test]
    fn first_in_file_order_wins_within_scope() {
        let t = tier(RULES).unwrap();
        let d = t.decide_one("ModernCRM", "User u1 logged in").unwrap();
        assert_eq!((&*d.label, d.detail.as_str()), ("User Action", "login"));
        // The scoped rule applies only to its source ...
        let d = t.decide_one("LegacyCRM", "Admin logged in").unwrap();
        assert_eq!(d.detail.as_str(), "crm-login");
        // ... elsewhere the next matching rule wins.
        let d = t.decide_one("ModernHR", "Admin logged in").unwrap();
        assert_eq!(d.detail.as_str(), "any-login");
        assert!(t.decide_one("x", "nothing here").is_none());
    }

    #[test]
    fn bad_regex_names_file_rule_and_error() {
        let e = tier("[[rule]]\nid = \"broken\"\nlabel = \"L\"\nregex = 'a(b'\n").err().unwrap().to_string();
        assert!(e.contains("r.toml") && e.contains("'broken'") && e.contains("a(b") && e.contains("unclosed"), "{e}");
    }

    #[test]
    fn duplicate_ids_and_empty_fields_are_errors() {
        let e = tier("[[rule]]\nid='a'\nlabel='L'\nregex='x'\n[[rule]]\nid='a'\nlabel='L'\nregex='y'\n").err().unwrap().to_string();
        assert!(e.contains("duplicate rule id 'a'") && e.contains("rules 1 and 2"), "{e}");
        let e = tier("[[rule]]\nid='a'\nlabel='L'\nregex=''\n").err().unwrap().to_string();
        assert!(e.contains("empty regex"), "{e}");
        let e = tier("[[rule]]\nid='a'\nlabel='L'\n").err().unwrap().to_string();
        assert!(e.contains("r.toml") && e.contains("regex"), "{e}");
        let e = tier("[[rule]]\nid='a'\nlabel='L'\nregex='x'\ncolour='red'\n").err().unwrap().to_string();
        assert!(e.contains("colour"), "{e}");
    }

    #[test]
    fn oversized_patterns_are_refused() {
        let e = tier("[[rule]]\nid='huge'\nlabel='L'\nregex='\\w{5000}\\w{5000}\\w{5000}'\n").err().unwrap().to_string();
        assert!(e.contains("'huge'") && e.to_lowercase().contains("size limit"), "{e}");
    }

    #[test]
    fn round_trips_through_toml() {
        let f = RulesFile::parse(RULES, Path::new("r.toml")).unwrap();
        assert_eq!(RulesFile::parse(&f.to_toml(), Path::new("r.toml")).unwrap(), f);
    }
}
