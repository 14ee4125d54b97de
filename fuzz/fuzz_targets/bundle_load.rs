//! Bundle loading: a model.toml and a head.safetensors of any bytes load or
//! fail with an error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The input is split in two at the first 0xFF byte: model.toml, head.safetensors.
    let (toml, head) = match data.iter().position(|&b| b == 0xFF) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("model.toml"), toml).unwrap();
    std::fs::write(dir.path().join("head.safetensors"), head).unwrap();
    if let Ok(b) = logsift_core::Bundle::load(dir.path()) {
        let _ = b.known_labels();
    }
});
