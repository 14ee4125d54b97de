//! rules.toml: any text parses to rules or a clear error; compiling never
//! panics and stays within the size limits.
#![no_main]
use libfuzzer_sys::fuzz_target;
use logsift_core::rules::{RulesFile, RulesTier};

fuzz_target!(|text: &str| {
    let path = std::path::Path::new("fuzz.toml");
    if let Ok(f) = RulesFile::parse(text, path) {
        if let Ok(t) = RulesTier::compile(&f, path) {
            let _ = t.decide_one("src", "a line 123");
        }
    }
});
