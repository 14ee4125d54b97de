//! Timestamps inside log lines: found, so that masking turns each into one
//! `<TS>` placeholder and `patterns` can order lines in time.
//!
//! Real logs put the time in the line in a handful of forms, and until they
//! are recognised whole, every day, month or weekday of the log makes a new
//! template (`Jun <NUM> <NUM>:<NUM>:<NUM>` and `Jul <NUM> …` differ; so do
//! Apache's `[Sun Dec …]` and `[Mon Dec …]`). The forms recognised, each as
//! whitespace-separated words with optional wrapping brackets:
//!
//! | form | example |
//! |---|---|
//! | syslog / ctime | `Jun 14 15:16:01`, `Wed Dec 02 19:55:30 2026`, `Dec  2 2026` |
//! | RFC 2822 | `Wed, 02 Dec 2026 19:55:30 +0000` |
//! | ISO 8601 | `2026-12-02T19:55:30.123Z`, `2026-12-02 19:55:30,123 +01:00`, `2026-12-02` |
//! | slashed dates | `2026/12/02 19:55:30`, `12/02/2026 19:55:30` |
//! | common log format | `[02/Dec/2026:19:56:21 -0700]` |
//! | a time of day | `19:55:30`, `19:55:30.123456` |
//! | epoch seconds / milliseconds | `1796241330`, `1796241330.123`, `1796241330123` |
//!
//! A month name or weekday alone (`May`, `Sun`) is a word, not a time: it is
//! only taken with a day number and a time or year beside it.

/// A timestamp found at the start of a run of words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// Words it covers (at least 1).
    pub words: usize,
    /// Bytes of wrapping punctuation before it in its first word (`[`).
    pub lead: usize,
    /// Bytes of punctuation after it in its last word (`]`, `,`, `:`).
    pub trail: usize,
}

const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const MONTHS_LONG: [&str; 12] =
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const DAYS_LONG: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

/// The month number (1–12) of an English month name or its 3-letter form.
pub fn month(t: &str) -> Option<u32> {
    // Compared in place: called for most words of every line, where a
    // lower-cased copy was an allocation a word.
    MONTHS
        .iter()
        .position(|m| m.eq_ignore_ascii_case(t))
        .or_else(|| MONTHS_LONG.iter().position(|m| m.eq_ignore_ascii_case(t)))
        .map(|i| i as u32 + 1)
}

fn weekday(t: &str) -> bool {
    let t = t.strip_suffix(',').unwrap_or(t);
    DAYS.iter().chain(&DAYS_LONG).any(|d| d.eq_ignore_ascii_case(t))
}

fn digits(t: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&t.len()) && t.bytes().all(|c| c.is_ascii_digit())
}

fn day(t: &str) -> bool {
    let t = t.strip_suffix(',').unwrap_or(t);
    digits(t, 1, 2) && (1..=31).contains(&t.parse::<u32>().unwrap_or(0))
}

fn year(t: &str) -> bool {
    let t = t.strip_suffix(',').unwrap_or(t);
    digits(t, 4, 4) && (1970..=2199).contains(&t.parse::<u32>().unwrap_or(0))
}

/// `h:mm:ss`, with an optional fraction (`.123`, `,123`) and `Z`.
fn time(t: &str) -> bool {
    let t = t.strip_suffix('Z').unwrap_or(t);
    let (hms, frac) = match t.find(['.', ',']) {
        Some(i) => (&t[..i], &t[i + 1..]),
        None => (t, "0"),
    };
    let mut parts = hms.split(':');
    let ok = matches!((parts.next(), parts.next(), parts.next(), parts.next()),
        (Some(h), Some(m), Some(s), None) if digits(h, 1, 2) && digits(m, 2, 2) && digits(s, 2, 2));
    ok && digits(frac, 1, 9)
}

/// A time zone: `+0000`, `-07:00`, `UTC`, `GMT`, `Z`.
fn zone(t: &str) -> bool {
    let b = t.as_bytes();
    matches!(t, "UTC" | "GMT" | "Z")
        || (b.len() == 5 && (b[0] == b'+' || b[0] == b'-') && digits(&t[1..], 4, 4))
        || (b.len() == 6 && (b[0] == b'+' || b[0] == b'-') && b[3] == b':' && digits(&t[1..3], 2, 2) && digits(&t[4..], 2, 2))
}

/// `2026-12-02`, optionally followed by `T` and a time with a zone.
fn iso(t: &str) -> bool {
    let b = t.as_bytes();
    if b.len() < 10 || !digits(&t[..4], 4, 4) || b[4] != b'-' || !digits(&t[5..7], 2, 2) || b[7] != b'-' || !digits(&t[8..10], 2, 2) {
        return false;
    }
    let rest = &t[10..];
    if rest.is_empty() {
        return true;
    }
    let Some(rest) = rest.strip_prefix(['T', 't']) else { return false };
    // A zone after the time: `+01:00` / `-0700` (a `-` after the time's digits).
    let cut = rest.rfind(['+', '-']).filter(|&i| i > 0).unwrap_or(rest.len());
    time(&rest[..cut]) && (cut == rest.len() || zone(&rest[cut..]))
}

/// `2026/12/02` or `12/02/2026`.
fn slashed(t: &str) -> bool {
    let mut p = t.split('/');
    let (Some(a), Some(b), Some(c), None) = (p.next(), p.next(), p.next(), p.next()) else { return false };
    (digits(a, 4, 4) && digits(b, 1, 2) && digits(c, 1, 2)) || (digits(a, 1, 2) && digits(b, 1, 2) && digits(c, 4, 4))
}

/// Common log format: `02/Dec/2026:19:56:21`.
fn clf(t: &str) -> bool {
    let mut it = t.splitn(3, '/');
    let (Some(d), Some(m), Some(rest)) = (it.next(), it.next(), it.next()) else { return false };
    day(d) && month(m).is_some() && rest.len() > 5 && year(&rest[..4]) && rest.as_bytes()[4] == b':' && time(&rest[5..])
}

/// Epoch seconds (10 digits, 2001–2033) or milliseconds (13 digits), with an
/// optional fraction.
fn epoch(t: &str) -> bool {
    let int = t.split_once('.').map_or(t, |(i, f)| if digits(f, 1, 9) { i } else { "" });
    (digits(int, 10, 10) || digits(int, 13, 13)) && (int.starts_with('1') || int.starts_with("20") && int.len() == 10)
}

/// A cheap first look: can a timestamp start with this word at all?
fn plausible(core: &str) -> bool {
    let b = core.as_bytes();
    b[0].is_ascii_digit() || (b.len() >= 3 && b.len() <= 10 && b[0].is_ascii_alphabetic() && b[1].is_ascii_alphabetic())
}

fn strip(word: &str) -> (usize, &str, usize) {
    // ASCII bytes: the cuts fall between characters.
    let b = word.as_bytes();
    let lead = b.iter().take_while(|&&x| matches!(x, b'[' | b'(' | b'<' | b'"' | b'\'')).count();
    let rest = &word[lead..];
    let kept = rest.len() - rest.bytes().rev().take_while(|&x| matches!(x, b']' | b')' | b'>' | b'"' | b'\'' | b',' | b';' | b'|')).count();
    let core = &rest[..kept];
    // A trailing ':' ends a syslog prefix (`19:55:30:`) but is part of no form.
    let core = if core.ends_with(':') && !core.ends_with("::") { &core[..core.len() - 1] } else { core };
    (lead, core, rest.len() - core.len())
}

/// The timestamp that starts at `words[0]`, if one does.
pub fn at(words: &[&str]) -> Option<Span> {
    let first = strip(words.first()?);
    if first.1.is_empty() {
        return None;
    }
    // Cores of the next few words, without wrapping punctuation; a word that
    // opens with a bracket after the first starts something else.
    // Every form is ASCII; the checks below slice by bytes.
    if !first.1.is_ascii() || !plausible(first.1) {
        return None;
    }
    // A form that starts with a word of letters starts with a weekday or a
    // month; every other form starts with a digit. Most words of a line stop
    // here, before the words after them are looked at.
    if !first.1.as_bytes()[0].is_ascii_digit() && month(first.1).is_none() && !weekday(first.1) {
        return None;
    }
    // A number of three or more digits with no date or time separator in it
    // (a pid, a port, a size) can only be epoch time, a word alone.
    if first.1.len() > 2 && first.1.as_bytes()[0].is_ascii_digit() && !first.1.bytes().any(|c| matches!(c, b'-' | b'/' | b':')) {
        return epoch(first.1).then_some(Span { words: 1, lead: first.0, trail: first.2 });
    }
    let mut cores: [(&str, usize); 6] = [("", 0); 6];
    cores[0] = (first.1, first.2);
    let mut n = 1;
    for w in words.iter().skip(1).take(5) {
        let (lead, core, trail) = strip(w);
        if lead > 0 || core.is_empty() || !core.is_ascii() {
            break;
        }
        cores[n] = (core, trail);
        n += 1;
    }
    let c = |i: usize| if i < n { cores[i].0 } else { "" };
    // A closing mark ends the timestamp at that word.
    let closed = |i: usize| i < n && cores[i].1 > 0;
    let mut i = 0usize;
    let take = |i: &mut usize, ok: bool| {
        if ok {
            *i += 1;
        }
        ok
    };
    let done = |i: usize| Some(Span { words: i, lead: first.0, trail: cores[i - 1].1 });
    let opt_zone = |i: &mut usize| {
        if !closed(*i - 1) && zone(c(*i)) {
            *i += 1;
        }
    };

    // Weekday first: ctime (`Sun Dec 04 …`) or RFC 2822 (`Sun, 04 Dec …`).
    let had_weekday = weekday(c(0)) && (!closed(0) || words[0].ends_with(',')) && take(&mut i, true);
    if month(c(i)).is_some() && !closed(i) && day(c(i + 1)) {
        // Month day [time] [year] [zone]: needs a time or a year.
        let start = i;
        i += 2;
        let mut anchored = false;
        if !closed(i - 1) && time(c(i)) {
            i += 1;
            anchored = true;
        }
        if !closed(i - 1) && year(c(i)) {
            i += 1;
            anchored = true;
        }
        if !anchored || i == start {
            return None;
        }
        opt_zone(&mut i);
        return done(i);
    }
    if day(c(i)) && !closed(i) && month(c(i + 1)).is_some() && !closed(i + 1) && year(c(i + 2)) {
        // Day month year [time] [zone].
        i += 3;
        if !closed(i - 1) && time(c(i)) {
            i += 1;
        }
        opt_zone(&mut i);
        return done(i);
    }
    if had_weekday {
        return None;
    }
    if iso(c(0)) || slashed(c(0)) {
        i = 1;
        if !closed(0) && !c(0).contains(['T', 't']) && time(c(1)) {
            i = 2;
        }
        opt_zone(&mut i);
        return done(i);
    }
    if clf(c(0)) || time(c(0)) {
        i = 1;
        opt_zone(&mut i);
        return done(i);
    }
    if epoch(c(0)) {
        return done(1);
    }
    None
}

/// The first timestamp among the first `within` words of `line`, as a byte
/// range of the line (wrapping brackets excluded).
pub fn find(line: &str, within: usize) -> Option<std::ops::Range<usize>> {
    let mut offsets = vec![];
    let mut words = vec![];
    let base = line.as_ptr() as usize;
    for w in line.split(char::is_whitespace).filter(|w| !w.is_empty()).take(within + 6) {
        offsets.push(w.as_ptr() as usize - base);
        words.push(w);
    }
    for k in 0..words.len().min(within) {
        if let Some(s) = at(&words[k..]) {
            let last = k + s.words - 1;
            let start = offsets[k] + s.lead;
            let end = offsets[last] + words[last].len() - s.trail;
            return Some(start..end);
        }
    }
    None
}

/// A key that orders timestamps of one form in time: (year, month, day,
/// hour, minute, second, fraction) where the text has them; a missing year
/// is 0, so lines of one syslog file order within their year.
pub fn sort_key(ts: &str) -> Vec<u64> {
    let mut month_no = None;
    for w in ts.split(|c: char| !c.is_ascii_alphabetic()) {
        if let Some(m) = month(w) {
            month_no = Some(m as u64);
            break;
        }
    }
    let nums: Vec<u64> = ts.split(|c: char| !c.is_ascii_digit()).filter(|p| !p.is_empty()).filter_map(|p| p.parse().ok()).collect();
    if nums.len() == 1 {
        return nums; // epoch
    }
    match month_no {
        Some(m) => {
            // Syslog / ctime / RFC 2822 / CLF: day, then time, year somewhere.
            let yi = nums.iter().position(|&n| (1970..=2199).contains(&n));
            let y = yi.map_or(0, |i| nums[i]);
            let rest: Vec<u64> = nums.iter().enumerate().filter(|(i, _)| Some(*i) != yi).map(|(_, &n)| n).collect();
            [y, m].into_iter().chain(rest).collect()
        }
        None => match nums.as_slice() {
            [y, m, d, rest @ ..] if *y >= 1000 => [*y, *m, *d].into_iter().chain(rest.iter().copied()).collect(),
            [m, d, y, rest @ ..] if *y >= 1000 => [*y, *m, *d].into_iter().chain(rest.iter().copied()).collect(),
            _ => nums,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(line: &str) -> Option<&str> {
        find(line, 4).map(|r| &line[r])
    }

    #[test]
    fn finds_each_form() {
        // Lines of logsift's own capture (bench/reallogs), and lines written here for the forms it lacks.
        let cases = [
            ("Dec 12 19:55:42 vm sshd[31750]: pam_unix(sshd:auth): check pass; user unknown", Some("Dec 12 19:55:42")),
            ("Dec  2 19:56:01 vm CRON[31908]: pam_unix(cron:session): session opened", Some("Dec  2 19:56:01")),
            ("[Wed Dec 02 19:55:30 2026] [notice] [pid 31387] AH00163: configured", Some("Wed Dec 02 19:55:30 2026")),
            (
                "[Wed Dec 02 19:55:30.864120 2026] [mpm_prefork:notice] [pid 31387:tid 31387] AH00163: Apache/2.4.71 (Debian) configured",
                Some("Wed Dec 02 19:55:30.864120 2026"),
            ),
            ("Date: Wed, 02 Dec 2026 19:55:30 +0000", Some("Wed, 02 Dec 2026 19:55:30 +0000")),
            ("ünï 2026-12-0é", None), // no panic on non-ASCII words
            ("2026-12-02T19:55:30.123Z INFO shopd: tick", Some("2026-12-02T19:55:30.123Z")),
            ("2026-12-02T19:55:30+01:00 x", Some("2026-12-02T19:55:30+01:00")),
            ("2026-12-02 19:56:35,697 WARNING shopd: config key 'smtp_host' is deprecated", Some("2026-12-02 19:56:35,697")),
            ("2026/12/02 19:55:30 [notice] 31370#31370: using the \"epoll\" event method", Some("2026/12/02 19:55:30")),
            ("127.0.0.1 - - [02/Dec/2026:19:56:21 +0000] \"GET /index.html HTTP/1.1\" 200 247", Some("02/Dec/2026:19:56:21 +0000")),
            ("at 19:55:30 done", Some("19:55:30")),
            ("1796241330 vm shopd: heartbeat", Some("1796241330")),
        ];
        for (line, want) in cases {
            assert_eq!(span(line), want, "{line}");
        }
    }

    #[test]
    fn words_are_not_times() {
        for line in ["May I help", "Sun is up", "took 12 s", "May 5 items left", "version 10:30 of", "id 123456789"] {
            assert_eq!(span(line), None, "{line}");
        }
    }

    #[test]
    fn keys_order_in_time() {
        assert!(sort_key("Jun 14 15:16:01") < sort_key("Jul 1 00:00:00"));
        assert!(sort_key("Wed Dec 02 19:55:30 2026") < sort_key("Thu Dec 03 01:00:00 2026"));
        assert!(sort_key("Thu Dec 03 01:00:00 2026") < sort_key("Fri Jan 01 01:00:00 2027"));
        assert!(sort_key("2026-12-02 19:55:30") < sort_key("2026-12-02 19:55:31"));
        assert!(sort_key("02/Dec/2026:19:56:21 -0700") < sort_key("03/Dec/2026:00:00:00 -0700"));
    }
}
