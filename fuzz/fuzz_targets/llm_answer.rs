//! The LLM answer parser: any reply gives one answer per line or an error.
#![no_main]
use libfuzzer_sys::fuzz_target;
use logsift_llm::answer::parse_answer;

fuzz_target!(|text: &str| {
    let labels = vec!["Workflow Error".to_string(), "Security Alert".to_string()];
    for n in [1usize, 3] {
        if let Ok(a) = parse_answer(text, &labels, n) {
            assert_eq!(a.len(), n);
        }
    }
});
