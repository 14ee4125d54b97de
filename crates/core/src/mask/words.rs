//! What a word is: the tests the masker's single pass asks of each word
//! (an address, a path, a UUID, a hex id, an e-mail address, a quoted
//! word, a `key=value`), and of a word's neighbours (a user name's slot, a
//! command after `COMMAND=`, HAProxy's backend/server and termination
//! state), kept apart from the pass itself ([`super::Masker`]).

use super::*;

/// Words that follow `user` in prose, not as its name (`user unknown`,
/// `user session opened`, `user is locked`): the `users` kind keeps them.
/// Sorted, for a binary search.
pub(super) const NOT_NAMES: [&str; 109] = [
    "a",
    "account",
    "accounts",
    "action",
    "actions",
    "added",
    "agent",
    "already",
    "an",
    "and",
    "as",
    "at",
    "auth",
    "authenticated",
    "authentication",
    "been",
    "by",
    "can",
    "cannot",
    "changed",
    "could",
    "created",
    "credentials",
    "data",
    "database",
    "default",
    "defaults",
    "deleted",
    "denied",
    "did",
    "directory",
    "disabled",
    "does",
    "enabled",
    "environment",
    "error",
    "errors",
    "exists",
    "for",
    "found",
    "from",
    "group",
    "groups",
    "had",
    "has",
    "home",
    "id",
    "ids",
    "in",
    "info",
    "information",
    "input",
    "interface",
    "is",
    "key",
    "keys",
    "limit",
    "limits",
    "list",
    "locked",
    "logged",
    "login",
    "logins",
    "may",
    "might",
    "mode",
    "must",
    "name",
    "names",
    "not",
    "of",
    "on",
    "or",
    "password",
    "passwords",
    "permissions",
    "privileges",
    "process",
    "profile",
    "quota",
    "registered",
    "rejected",
    "removed",
    "request",
    "requested",
    "requests",
    "role",
    "roles",
    "session",
    "sessions",
    "settings",
    "should",
    "signed",
    "space",
    "that",
    "the",
    "time",
    "to",
    "token",
    "tokens",
    "unknown",
    "unlocked",
    "updated",
    "was",
    "which",
    "who",
    "will",
    "with",
    "would",
];

/// The words of `line`, split at whitespace (`char::is_whitespace`), into
/// `out`. An ASCII line, nearly every log line, is split by bytes.
pub(super) fn words_of<'a>(line: &'a str, out: &mut Vec<&'a str>) {
    if line.is_ascii() {
        // The ASCII characters `char::is_whitespace` accepts: tab, line feed,
        // vertical tab, form feed, carriage return and space.
        let mut start = None;
        for (i, c) in line.bytes().enumerate() {
            if matches!(c, b'\t'..=b'\r' | b' ') {
                if let Some(s) = start.take() {
                    out.push(&line[s..i]);
                }
            } else if start.is_none() {
                start = Some(i);
            }
        }
        if let Some(s) = start {
            out.push(&line[s..]);
        }
    } else {
        out.extend(line.split(char::is_whitespace).filter(|w| !w.is_empty()));
    }
}

/// Where the `=` of a `key=value` word is: a key of letters, digits, `_`,
/// `-` and `.`, then a value that is not empty.
pub(super) fn assignment(word: &str) -> Option<usize> {
    let eq = word.find('=')?;
    (eq > 0 && eq + 1 < word.len() && word.as_bytes()[..eq].iter().all(|&x| x.is_ascii_alphanumeric() || matches!(x, b'_' | b'-' | b'.')))
        .then_some(eq)
}

/// `name@host` with no dot in the host (`postgres@shop`, `root@vm`), both
/// lower-case and name-like: a user at a host or a database, not an e-mail
/// address (those have a dotted domain, and are [`is_email`]'s).
pub(super) fn is_user_at_host(s: &str) -> bool {
    let Some((user, host)) = s.split_once('@') else {
        return false;
    };
    let name = |w: &str, first: fn(&u8) -> bool| {
        w.as_bytes().first().is_some_and(first)
            && w.bytes().all(|x| x.is_ascii_lowercase() || x.is_ascii_digit() || matches!(x, b'_' | b'-'))
    };
    name(user, |x| x.is_ascii_lowercase() || *x == b'_') && name(host, u8::is_ascii_lowercase)
}

/// Where a quoted word (`'nofile'`, `"shop.public.orders":`) ends: after
/// its closing quote, before trailing punctuation. None for a word that is
/// not one, and for a quoted placeholder (`'<USER>'`), which stays as it is
/// so that masking is idempotent.
pub(super) fn quoted_word(w: &str) -> Option<usize> {
    let b = w.as_bytes();
    let q = *b.first()?;
    if q != b'\'' && q != b'"' {
        return None;
    }
    let close = 1 + b[1..].iter().position(|&x| x == q)?;
    let inner = &b[1..close];
    let trail = &b[close + 1..];
    (!inner.is_empty()
        && !inner.iter().any(|&x| matches!(x, b'\'' | b'"' | b'<'))
        && trail.iter().all(|&x| matches!(x, b')' | b']' | b'}' | b',' | b';' | b':' | b'.' | b'!' | b'?')))
    .then_some(close + 1)
}

/// The `users` kind's slots, where `words[i]` is a name if it looks like
/// one: after `user` or `customer`, `for NAME from` (sshd's `Accepted
/// password for alice from …`), `for [NAME]` (PAM), su's `(to NAME) NAME`,
/// sudo's `sudo: NAME :` and cron's `(NAME) CMD`.
pub(super) fn user_slot(words: &[&str], i: usize) -> bool {
    let word = words[i];
    let next = words.get(i + 1).copied();
    if word.starts_with('(') && matches!(next, Some("CMD" | "END")) {
        return true;
    }
    let Some(&prev) = i.checked_sub(1).and_then(|p| words.get(p)) else {
        return false;
    };
    prev.eq_ignore_ascii_case("user")
        || prev.eq_ignore_ascii_case("customer")
        || prev == "(to"
        || (prev == "for" && (next == Some("from") || word.starts_with('[')))
        || (i > 1 && words[i - 2] == "(to" && prev.ends_with(')'))
        || (prev.starts_with("sudo") && prev.ends_with(':') && next == Some(":"))
}

/// The `commands` kind: where `rest` starts a command that runs to the end
/// of the line, the text that stands for it (`CMD (<CMD>)`).
pub(super) fn command_at(before: &[&str], rest: &[&str]) -> Option<&'static str> {
    let word = *rest.first()?;
    match word {
        // cron: `(root) CMD (/usr/bin/x -f y)`, and `END (…)` where it logs ends.
        "CMD" | "END"
            if before.last().is_some_and(|p| p.len() > 2 && p.starts_with('(') && p.ends_with(')'))
                && rest.len() > 1
                && rest[1].starts_with('(')
                && rest[rest.len() - 1].ends_with(')') =>
        {
            Some(if word == "CMD" { "CMD (<CMD>)" } else { "END (<CMD>)" })
        }
        // sudo: `… ; COMMAND=/usr/bin/id -u`.
        _ if word.len() > 8 && word.starts_with("COMMAND=") => Some("COMMAND=<CMD>"),
        // PostgreSQL: `LOG:  statement: SELECT …`, `STATEMENT:  SELECT …`.
        "statement:" if rest.len() > 1 => Some("statement: <CMD>"),
        "STATEMENT:" if rest.len() > 1 => Some("STATEMENT: <CMD>"),
        _ => None,
    }
}

/// The `proxy` kind: what stands for `words[i]` where it is one of an
/// HAProxy log line's routing fields. Both are known by the fields around
/// them, never by their own text:
///
/// * `backend/server`: the word after the frontend, which follows the
///   bracketed accept date, and before the timers (`Tq/Tw/Tc/Tr/Tt` in the
///   HTTP format, `Tw/Tc/Tt` in the TCP one), which are masked with it
///   (`0/0/5007` would otherwise pass for a date);
/// * the termination state: two or four flag characters (`----`, `SC--`,
///   `cD`) before the connection counts (`actconn/feconn/beconn/srv_conn/retries`)
///   and the queues (`srv_queue/backend_queue`).
///
/// Returns the text and how many words it stands for.
pub(super) fn proxy_field(words: &[&str], i: usize) -> Option<(&'static str, usize)> {
    let word = words[i];
    // What the word itself and the one two before must be, checked first:
    // most words of a line stop here. (A template's own
    // `<BACKEND>/<SERVER>`, `<NUM>` parts and `<STATE>` are taken too, so
    // masking twice changes nothing.)
    let route = i >= 2 && words[i - 2].ends_with(']');
    let state = word == "<STATE>" || ((word.len() == 2 || word.len() == 4) && word.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-'));
    if !route && !state {
        return None;
    }
    let next = words.get(i + 1).copied()?;
    let timers = route.then(|| slashed_numbers(next)).flatten();
    if matches!(timers, Some(3 | 5)) {
        let (backend, server) = word.split_once('/')?;
        if backend.is_empty() || server.is_empty() || server.contains('/') {
            return None;
        }
        let route =
            if timers == Some(3) { "<BACKEND>/<SERVER> <NUM>/<NUM>/<NUM>" } else { "<BACKEND>/<SERVER> <NUM>/<NUM>/<NUM>/<NUM>/<NUM>" };
        return Some((route, 2));
    }
    (state && slashed_numbers(next) == Some(5) && words.get(i + 2).is_some_and(|q| slashed_numbers(q) == Some(2))).then_some(("<STATE>", 1))
}

/// How many numbers `word` is, joined by `/` (each may be signed, or already
/// `<NUM>`); `None` when it is anything else.
pub(super) fn slashed_numbers(word: &str) -> Option<usize> {
    let mut n = 0;
    for part in word.split('/') {
        n += 1;
        let digits = part.strip_prefix(['-', '+']).unwrap_or(part);
        if !(part == NUM || (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))) {
            return None;
        }
    }
    Some(n)
}

pub(super) fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.bytes().all(|c| c.is_ascii_alphanumeric() || b"._%+-".contains(&c))
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-')
}

pub(super) fn is_uuid(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// 8+ hex digits with at least one decimal digit, or `0x` followed by hex.
pub(super) fn is_hex_id(run: &[u8]) -> bool {
    if run.len() >= 3 && run[0] == b'0' && (run[1] == b'x' || run[1] == b'X') {
        return run[2..].iter().all(u8::is_ascii_hexdigit);
    }
    run.len() >= 8 && run.iter().all(u8::is_ascii_hexdigit) && run.iter().any(u8::is_ascii_digit) && !run.iter().all(u8::is_ascii_digit)
}

pub(super) fn is_ipv4(s: &str) -> bool {
    let mut parts = 0;
    for p in s.split('.') {
        parts += 1;
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|c| c.is_ascii_digit()) || p.parse::<u16>().map_or(true, |v| v > 255) {
            return false;
        }
    }
    parts == 4
}

pub(super) fn is_ipv4_with_suffix(s: &str) -> bool {
    match s.find([':', '/']) {
        Some(i) => is_ipv4(&s[..i]) && s.len() > i + 1 && s[i + 1..].bytes().all(|c| c.is_ascii_digit()),
        None => is_ipv4(s),
    }
}

pub(super) fn is_ipv6(s: &str) -> bool {
    let s = s.strip_prefix('[').unwrap_or(s);
    let s = match s.find(']') {
        Some(i) => &s[..i],
        None => s,
    };
    s.bytes().filter(|&c| c == b':').count() >= 2 && s.parse::<std::net::Ipv6Addr>().is_ok()
}

pub(super) fn is_path(s: &str) -> bool {
    let b = s.as_bytes();
    // `/` alone is the root (`GET / HTTP/1.1`, `mounted on /`).
    let unix = s == "/" || (b.len() >= 2 && b[0] == b'/' && b[1] != b'/' && !b[1..].iter().all(|&c| c == b'/'));
    let windows = b.len() >= 4 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'\\';
    (unix || windows) && !s.contains(['<', '>'])
}
