//! Masking: any text, no panic; masking a template again changes nothing.
#![no_main]
use libfuzzer_sys::fuzz_target;
use logsift_core::mask::{MaskConfig, Masker};

fuzz_target!(|text: &str| {
    for cfg in [MaskConfig::default(), MaskConfig::none()] {
        let m = Masker::new(cfg);
        let once = m.mask(text);
        assert_eq!(m.mask(&once), once, "masking is idempotent");
    }
});
