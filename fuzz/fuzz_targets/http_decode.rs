//! The service's request decoding: JSON bodies and NDJSON stream lines.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match logsift_server::decode_logs(data, 1000, 256) {
        Ok(records) => assert!(records.len() <= 1000),
        Err(p) => assert!([400, 413, 422].contains(&p.status()), "{}", p.status()),
    }
    let lines: Vec<Vec<u8>> = data.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    let n = lines.len();
    let records = logsift_server::stream_records(lines, vec![], 1, 256);
    assert!(records.len() <= n);
});
