//! CSV, JSON Lines and plain-text readers: any bytes give records (some
//! marked invalid), never a panic, and never more records than lines.
#![no_main]
use libfuzzer_sys::fuzz_target;
use logsift_core::io::{CsvInput, InputOptions, LineInput};

fuzz_target!(|data: &[u8]| {
    let opts = InputOptions { max_line_bytes: 256, ..InputOptions::default() };
    let lines = data.split(|&b| b == b'\n').count();
    for json in [false, true] {
        let n = LineInput::new(data, "fuzz", json, opts.clone()).count();
        assert!(n <= lines);
    }
    if let Ok(csv) = CsvInput::new(data, "fuzz", opts) {
        for r in csv.take(10_000) {
            let _ = r;
        }
    }
});
