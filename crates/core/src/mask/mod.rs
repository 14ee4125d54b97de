//! Masking: the variable parts of a line become placeholders, which gives the
//! line's *template*, the key of the decision cache and the text the model sees.
//!
//! `nova.compute.claims [req-9c1f…] Total memory: 64172 MB, used: 512.00 MB`
//! becomes `nova.compute.claims [req-<UUID>] Total memory: <NUM> MB, used: <NUM> MB`.
//!
//! The masker is a hand-written single pass over the words of the line (no
//! regular expressions), so it costs a few hundred nanoseconds a line. Each
//! kind of variable can be switched off in [`MaskConfig`].
//!
//! Invariants, each covered by a test:
//! * masking is idempotent: `mask(mask(x)) == mask(x)`;
//! * runs of whitespace become one space and the ends are trimmed;
//! * placeholders are `<UPPER>` words, which no kind of variable matches.
//!
//! Masking may merge lines that a regular expression tells apart
//! (`status: 200` and `status: 500` share a template). That is safe because the
//! rules tier always sees the raw line, before the cache is consulted; only the
//! model and LLM tiers, which decide per template, sit behind the cache.

mod words;

use serde::{Deserialize, Serialize};

use words::*;

/// Which kinds of variable text are replaced by placeholders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MaskConfig {
    /// Digit runs, with decimals (`512.00`, `User953` → `User<NUM>`): `<NUM>`.
    pub numbers: bool,
    /// Hexadecimal ids of 8 or more digits containing a decimal digit, and
    /// `0x…` literals: `<HEX>`.
    pub hex: bool,
    /// UUIDs, also inside words (`req-<UUID>`): `<UUID>`.
    pub uuids: bool,
    /// IPv4 addresses, with an optional `:port` or `/prefix`: `<IP>`.
    pub ipv4: bool,
    /// IPv6 addresses (optionally in brackets): `<IP>`.
    pub ipv6: bool,
    /// E-mail addresses: `<EMAIL>`.
    pub emails: bool,
    /// Absolute file-system and URL paths (`/var/log/x`, `C:\x`): `<PATH>`.
    pub paths: bool,
    /// Timestamps of the usual forms (syslog, ctime, ISO 8601, RFC 2822,
    /// common log format, times of day, epoch seconds; see
    /// [`crate::timestamp`]): `<TS>`, so a line is one template whatever the
    /// day, month or weekday it was logged.
    pub timestamps: bool,
    /// Quoted single words (`'nofile'`, `table "shop.public.orders":`):
    /// `<STR>`. A quote that holds whitespace (a request line) or a
    /// placeholder (`'<USER>'`) is left to the other kinds. On by default
    /// since a format string's `'%s'` is nearly always a value; a bundle
    /// made before that keeps it off, as written in its `model.toml`.
    pub quoted: bool,
    /// The value of a `key=value` word is checked by the kinds above as if
    /// it stood alone: `to=<a@b.org>,` → `to=<<EMAIL>>,`, `home=/home/x` →
    /// `home=<PATH>`, `message-id=<2026…AC@lab.example>` → one template,
    /// not one per id. The value of a plain word (`status=sent`) is kept: it
    /// is often the point of the line. (Missing from a bundle made before
    /// this kind existed: off, so that bundle masks as it was trained.)
    #[serde(default)]
    pub values: bool,
    /// User names where the line says they are one: the word after `user`
    /// (`Invalid user admin from`, `session opened for user bob(uid=…)`,
    /// `user "postgres"`), the word between `for` and `from` (`Failed
    /// password for root from`), the value of `user=`, and `name@host` addresses
    /// without a dot (`postgres@shop`): `<USER>`, `<USER>@<HOST>`. Only a
    /// lower-case name-like word (`[a-z_][a-z0-9_.-]*`) that is not a common
    /// English word after `user` (`user unknown`, `user is …`) is masked.
    /// Also: the word after `customer`, `name=`, `identity=`, su's `(to alice) bob`,
    /// sudo's `sudo: bob :`, cron's `(bob) CMD`, `for [alice]` (PAM) and a
    /// bracketed local address as a value (`from=<bob>`, postfix):
    /// `from=<<USER>>`.
    /// (Missing from an older bundle: off.)
    #[serde(default)]
    pub users: bool,
    /// The command or statement a line reports running, to the end of the
    /// line: cron's `(root) CMD (/usr/bin/backup -f x)`, sudo's
    /// `COMMAND=/usr/bin/id -u`, PostgreSQL's `statement: SELECT …` and
    /// `STATEMENT:  …`: `CMD (<CMD>)`, `COMMAND=<CMD>`, `statement: <CMD>`.
    /// Its text is free-form, so each command would be its own template.
    /// (Missing from an older bundle: off.)
    #[serde(default)]
    pub commands: bool,
    /// A proxy's access-log fields that say where a request went and how it
    /// ended: HAProxy's `backend/server` (between the frontend and the
    /// timers, `web app/web1 0/0/2/0/2`) and its termination state (before
    /// the connection counts and queues, `SC-- 1/1/0/0/0 0/0`):
    /// `<BACKEND>/<SERVER>`, `<STATE>`. Every backend, server and way a
    /// request ended otherwise made another template of one log format,
    /// with its status code already a `<NUM>`. (Missing from an older
    /// bundle: off.)
    #[serde(default)]
    pub proxy: bool,
}

impl Default for MaskConfig {
    fn default() -> Self {
        MaskConfig {
            numbers: true,
            hex: true,
            uuids: true,
            ipv4: true,
            ipv6: true,
            emails: true,
            paths: true,
            timestamps: true,
            quoted: true,
            values: true,
            users: true,
            commands: true,
            proxy: true,
        }
    }
}

/// A mask kind `--mask` does not know.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("unknown mask kind '{}': expected a comma-separated list of {}, or 'none' / 'default'", .0, MaskConfig::NAMES.join(", "))]
pub struct UnknownMask(pub String);

impl MaskConfig {
    /// Every kind off: templates are the lines with whitespace normalised.
    pub fn none() -> Self {
        MaskConfig {
            numbers: false,
            hex: false,
            uuids: false,
            ipv4: false,
            ipv6: false,
            emails: false,
            paths: false,
            timestamps: false,
            quoted: false,
            values: false,
            users: false,
            commands: false,
            proxy: false,
        }
    }

    /// The names accepted by [`MaskConfig::from_names`].
    pub const NAMES: [&'static str; 13] =
        ["numbers", "hex", "uuids", "ipv4", "ipv6", "emails", "paths", "timestamps", "quoted", "values", "users", "commands", "proxy"];

    /// A config with exactly the named kinds on (`"numbers,hex,uuids"`);
    /// `"none"` turns all off, `"default"` gives the default.
    pub fn from_names(list: &str) -> Result<Self, UnknownMask> {
        let list = list.trim();
        if list == "default" {
            return Ok(MaskConfig::default());
        }
        let mut c = MaskConfig::none();
        if list == "none" || list.is_empty() {
            return Ok(c);
        }
        for name in list.split(',').map(str::trim) {
            let flag = match name {
                "numbers" => &mut c.numbers,
                "hex" => &mut c.hex,
                "uuids" => &mut c.uuids,
                "ipv4" => &mut c.ipv4,
                "ipv6" => &mut c.ipv6,
                "emails" => &mut c.emails,
                "paths" => &mut c.paths,
                "timestamps" => &mut c.timestamps,
                "quoted" => &mut c.quoted,
                "values" => &mut c.values,
                "users" => &mut c.users,
                "commands" => &mut c.commands,
                "proxy" => &mut c.proxy,
                other => return Err(UnknownMask(other.to_string())),
            };
            *flag = true;
        }
        Ok(c)
    }
}

/// Turns lines into templates. Cheap to copy; holds no state.
#[derive(Clone, Copy, Debug, Default)]
pub struct Masker {
    config: MaskConfig,
}

const NUM: &str = "<NUM>";
const HEX: &str = "<HEX>";
const UUID: &str = "<UUID>";
const IP: &str = "<IP>";
const EMAIL: &str = "<EMAIL>";
const PATH: &str = "<PATH>";
const STR: &str = "<STR>";
const TS: &str = "<TS>";
const USER: &str = "<USER>";
const USER_AT_HOST: &str = "<USER>@<HOST>";

impl Masker {
    /// A masker with the given config.
    pub fn new(config: MaskConfig) -> Self {
        Masker { config }
    }

    /// The config in use.
    pub fn config(&self) -> &MaskConfig {
        &self.config
    }

    /// The template of `line`.
    ///
    /// ```
    /// use logsift_core::mask::Masker;
    /// let m = Masker::default();
    /// assert_eq!(m.mask("User User953 logged  in from 10.0.0.7"), "User User<NUM> logged in from <IP>");
    /// ```
    pub fn mask(&self, line: &str) -> String {
        let mut out = String::with_capacity(line.len());
        self.mask_into(line, &mut out);
        out
    }

    /// Writes the template of `line` into `out` (cleared first), reusing its buffer.
    pub fn mask_into(&self, line: &str, out: &mut String) {
        out.clear();
        // Room for most lines' words at once: growing from empty cost a line
        // three or four reallocations.
        let mut words = Vec::with_capacity(32);
        words_of(line, &mut words);
        let mut i = 0;
        while i < words.len() {
            if !out.is_empty() {
                out.push(' ');
            }
            if self.config.timestamps {
                if let Some(ts) = crate::timestamp::at(&words[i..]) {
                    let last = words[i + ts.words - 1];
                    out.push_str(&words[i][..ts.lead]);
                    out.push_str(TS);
                    out.push_str(&last[last.len() - ts.trail..]);
                    i += ts.words;
                    continue;
                }
            }
            let word = words[i];
            if self.config.commands {
                if let Some(head) = command_at(&words[..i], &words[i..]) {
                    out.push_str(head);
                    break;
                }
            }
            if self.config.proxy {
                if let Some((field, used)) = proxy_field(&words, i) {
                    out.push_str(field);
                    i += used;
                    continue;
                }
            }
            if !(self.config.users && user_slot(&words, i) && self.mask_user(word, out)) {
                self.mask_word(word, out);
            }
            i += 1;
        }
    }

    fn mask_word(&self, word: &str, out: &mut String) {
        let c = &self.config;
        if c.quoted {
            if let Some(end) = quoted_word(word) {
                out.push_str(STR);
                out.push_str(&word[end..]);
                return;
            }
        }
        // Every kind below needs a digit, '@', ':', '/', '\\', '=' or 36
        // bytes (a UUID of hex letters): a plain word, most of a line, is
        // itself.
        if word.len() < 36 && !word.bytes().any(|b| b.is_ascii_digit() || matches!(b, b'@' | b':' | b'/' | b'\\' | b'=')) {
            out.push_str(word);
            return;
        }
        // `key=value`: the value on its own (`values`), or as a user name
        // after `user=` (`users`).
        if c.values || c.users {
            if let Some(eq) = assignment(word) {
                let (key, value) = (&word[..eq], &word[eq + 1..]);
                if c.users && (key.eq_ignore_ascii_case("user") || key == "name" || key == "identity") {
                    out.push_str(&word[..=eq]);
                    if !self.mask_user(value, out) {
                        self.mask_word(value, out);
                    }
                    return;
                }
                if c.values {
                    out.push_str(&word[..=eq]);
                    // A bracketed local address is a user (`from=<bob>`).
                    if !(c.users && value.starts_with('<') && self.mask_user(value, out)) {
                        self.mask_word(value, out);
                    }
                    return;
                }
            }
        }
        // Split off punctuation that wraps a value: `[10.0.0.1]:`, `(a@b.org),`.
        // (ASCII bytes: the cuts fall between characters.)
        let b = word.as_bytes();
        let start = b.iter().take_while(|&&x| matches!(x, b'(' | b'[' | b'{' | b'<' | b'"' | b'\'')).count();
        let end = b.len()
            - b[start..]
                .iter()
                .rev()
                .take_while(|&&x| matches!(x, b')' | b']' | b'}' | b'>' | b'"' | b'\'' | b',' | b';' | b':' | b'.' | b'!' | b'?'))
                .count();
        let (lead, core, trail) = (&word[..start], &word[start..end], &word[end..]);
        if !core.is_empty() {
            // What each kind needs, from one pass over the core: an email a
            // '@', an IPv4 address a leading digit and a '.', an IPv6 address
            // two ':', a path a leading '/' or a drive's ':'.
            let cb = core.as_bytes();
            let (mut at, mut dots, mut colons) = (false, false, 0usize);
            for &x in cb {
                match x {
                    b'@' => at = true,
                    b'.' => dots = true,
                    b':' => colons += 1,
                    _ => {}
                }
            }
            let whole = if c.emails && at && is_email(core) {
                Some(EMAIL)
            } else if c.users && at && is_user_at_host(core) {
                Some(USER_AT_HOST)
            } else if c.uuids && cb.len() == 36 && is_uuid(cb) {
                Some(UUID)
            } else if (c.ipv4 && dots && cb[0].is_ascii_digit() && is_ipv4_with_suffix(core)) || (c.ipv6 && colons >= 2 && is_ipv6(core)) {
                Some(IP)
            } else if c.paths && (cb[0] == b'/' || colons > 0) && is_path(core) {
                Some(PATH)
            } else {
                None
            };
            if let Some(placeholder) = whole {
                out.push_str(lead);
                out.push_str(placeholder);
                out.push_str(trail);
                return;
            }
        }
        self.mask_inside(word, out);
    }

    /// The `users` kind's slot (after `user`, or `user=`): writes `word`
    /// with its name masked (`"postgres"` → `"<USER>"`, `bob(uid=1001)` →
    /// `<USER>(uid=<NUM>)`) and returns true, or returns false, writing
    /// nothing, where the word is not a name (`unknown`, `NOT`, `42`).
    fn mask_user(&self, word: &str, out: &mut String) -> bool {
        let b = word.as_bytes();
        let lead = b.iter().take_while(|&&x| matches!(x, b'(' | b'[' | b'<' | b'"' | b'\'')).count();
        let mut n =
            b[lead..].iter().take_while(|&&x| x.is_ascii_lowercase() || x.is_ascii_digit() || matches!(x, b'_' | b'.' | b'-')).count();
        // A name ends in a letter, digit or '_': `deploy.` ends a sentence.
        while n > 0 && matches!(b[lead + n - 1], b'.' | b'-') {
            n -= 1;
        }
        if n == 0 || !(b[lead].is_ascii_lowercase() || b[lead] == b'_') {
            return false;
        }
        let (name, rest) = (&word[lead..lead + n], &word[lead + n..]);
        let suffix = rest.starts_with('(');
        if !suffix && !rest.bytes().all(|x| matches!(x, b')' | b']' | b'>' | b'"' | b'\'' | b',' | b';' | b':' | b'.' | b'!' | b'?')) {
            return false;
        }
        if NOT_NAMES.binary_search(&name).is_ok() {
            return false;
        }
        out.push_str(&word[..lead]);
        out.push_str(USER);
        if suffix {
            self.mask_word(rest, out);
        } else {
            out.push_str(rest);
        }
        true
    }

    /// Masks ids and numbers embedded in a word: `req-<UUID>`, `data_<NUM>.csv`.
    fn mask_inside(&self, word: &str, out: &mut String) {
        let c = &self.config;
        let b = word.as_bytes();
        let mut i = 0;
        let mut copied = 0; // bytes of `word` already written
        while i < b.len() {
            if !b[i].is_ascii_alphanumeric() {
                i += 1;
                continue;
            }
            // `i` starts an alphanumeric run (the previous byte is not alphanumeric).
            let run_end = i + b[i..].iter().take_while(|x| x.is_ascii_alphanumeric()).count();
            if c.uuids && b.len() - i >= 36 && is_uuid(&b[i..i + 36]) && b.get(i + 36).is_none_or(|x| !x.is_ascii_alphanumeric()) {
                out.push_str(&word[copied..i]);
                out.push_str(UUID);
                i += 36;
                copied = i;
                continue;
            }
            let run = &b[i..run_end];
            if c.hex && is_hex_id(run) {
                out.push_str(&word[copied..i]);
                out.push_str(HEX);
                i = run_end;
                copied = i;
                continue;
            }
            if c.numbers {
                // Digit runs inside the alphanumeric run, with decimals that
                // continue across a '.' or ','.
                let mut j = i;
                while j < run_end {
                    if b[j].is_ascii_digit() {
                        // A sign that starts the number (`soft=-1`,
                        // `0/-1/-1`), not a dash between words (`INV-7`).
                        if j == i && j > copied && b[j - 1] == b'-' && (j == 1 || !b[j - 2].is_ascii_alphanumeric()) {
                            out.push_str(&word[copied..j - 1]);
                            copied = j;
                        }
                        let mut k = j;
                        loop {
                            while k < b.len() && b[k].is_ascii_digit() {
                                k += 1;
                            }
                            if k + 1 < b.len() && (b[k] == b'.' || b[k] == b',') && b[k + 1].is_ascii_digit() {
                                k += 1;
                                continue;
                            }
                            break;
                        }
                        out.push_str(&word[copied..j]);
                        out.push_str(NUM);
                        copied = k;
                        j = k;
                        // A decimal may have run past this alphanumeric run.
                        if j > run_end {
                            break;
                        }
                    } else {
                        j += 1;
                    }
                }
                i = j.max(run_end);
            } else {
                i = run_end;
            }
        }
        out.push_str(&word[copied..]);
    }
}

/// The stable id of a masked template: the first 8 bytes of the SHA-256 of
/// its UTF-8 text, as 16 lowercase hex digits.
///
/// **Stability.** The id depends on the template's text alone, so it is the
/// same in every run, on every machine and in every logsift version; a line
/// keeps its template (and so its id) as long as the masking that made it
/// is the same — the bundle's `[mask]` kinds in `model.toml` and the
/// masking rules of this module. A release of logsift that changes what a
/// mask kind replaces says so in its notes; the test
/// `template_ids_are_pinned` holds known lines to known ids.
pub fn template_id(template: &str) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(template.as_bytes());
    d[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// A line's masked template and its [`template_id`], for output columns
/// (`--with-template`, the service's `with_template`, the worker, Python).
#[derive(Clone, Debug)]
pub struct Templates {
    masker: Masker,
}

impl Templates {
    /// Templates made with `masker` (a bundle's: [`crate::Bundle::masker`]).
    pub fn new(masker: Masker) -> Self {
        Templates { masker }
    }

    /// The template of `line` and its id.
    pub fn of(&self, line: &str) -> (String, String) {
        let t = self.masker.mask(line);
        let id = template_id(&t);
        (t, id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_ids_are_pinned() {
        // Known lines, known ids: a change here breaks every pipeline that
        // groups by template id, and must be a deliberate, announced one.
        let t = Templates::new(Masker::default());
        let (tpl, id) = t.of("Accepted password for alice from 10.0.0.7 port 52144 ssh2");
        assert_eq!(tpl, Masker::default().mask("Accepted password for alice from 192.168.1.9 port 40022 ssh2"));
        assert_eq!(id, template_id(&tpl));
        assert_eq!(id.len(), 16);
        assert_eq!(template_id(""), "e3b0c44298fc1c14", "SHA-256 of the empty string");
        assert_eq!(template_id("user <*> logged in"), PINNED_LOGIN);
        assert_ne!(template_id("user <*> logged out"), PINNED_LOGIN);
    }

    const PINNED_LOGIN: &str = "65231b8dd946c2d8";

    fn m(s: &str) -> String {
        Masker::default().mask(s)
    }

    #[test]
    fn masks_each_kind() {
        assert_eq!(m("took 0.2675118 s, len: 1893"), "took <NUM> s, len: <NUM>");
        assert_eq!(m("File data_6169.csv uploaded by user User953."), "File data_<NUM>.csv uploaded by user User<NUM>.");
        assert_eq!(m("[req-b9718cd8-f65e-49cc-8349-6cf7122af137 113d3a99c3da401fbd62cc2caa5b96d2 -]"), "[req-<UUID> <HEX> -]");
        assert_eq!(m("uuid 6cf7122a-f65e-49cc-8349-6cf7122af137 seen"), "uuid <UUID> seen");
        assert_eq!(m("from 10.11.10.1:8080, via [192.168.0.1]"), "from <IP>, via [<IP>]");
        assert_eq!(m("peer fe80::1ff:fe23:4567:890a and [2001:db8::1]:443"), "peer <IP> and [<IP>");
        assert_eq!(m("mail to ops.team+alerts@example.co.uk failed"), "mail to <EMAIL> failed");
        assert_eq!(m("open /var/log/syslog: denied; C:\\Windows\\x.dll"), "open <PATH>: denied; <PATH>");
        assert_eq!(m("value 0xdeadBEEF at 0x1f"), "value <HEX> at <HEX>");
    }

    #[test]
    fn leaves_words_and_times_readable() {
        assert_eq!(m("Backup completed successfully."), "Backup completed successfully.");
        assert_eq!(m("GET /v2/servers HTTP/1.1\" status: 200"), "GET <PATH> HTTP/<NUM>\" status: <NUM>");
        assert_eq!(m("at 10:30:31 decade deadbeef"), "at <TS> decade deadbeef");
        let no_ts = Masker::new(MaskConfig { timestamps: false, ..MaskConfig::default() });
        assert_eq!(no_ts.mask("at 10:30:31 decade"), "at <NUM>:<NUM>:<NUM> decade");
        assert_eq!(m("  spaced\tout \n line "), "spaced out line");
        assert_eq!(m(""), "");
    }

    #[test]
    fn one_template_whatever_the_day() {
        // Lines of logsift's own capture (bench/reallogs), the same line on another day.
        let a = m("Dec  2 19:55:42 vm sshd[31750]: pam_unix(sshd:auth): check pass; user unknown");
        assert_eq!(a, "<TS> vm sshd[<NUM>]: pam_unix(sshd:auth): check pass; user unknown");
        assert_eq!(a, m("Nov 28 04:05:06 vm sshd[7]: pam_unix(sshd:auth): check pass; user unknown"));
        let b = m("[Wed Dec 02 19:55:30.864120 2026] [mpm_prefork:notice] [pid 31387:tid 31387] AH00163: Apache/2.4.71 (Debian) configured -- resuming normal operations");
        assert_eq!(
            b,
            "[<TS>] [mpm_prefork:notice] [pid <NUM>:tid <NUM>] AH<NUM>: Apache/<NUM> (Debian) configured -- resuming normal operations"
        );
        assert_eq!(b, m("[Thu Jan 07 23:01:02.000001 2027] [mpm_prefork:notice] [pid 7:tid 7] AH00163: Apache/2.4.71 (Debian) configured -- resuming normal operations"));
        assert_eq!(b, m("[Thu Jan 07 23:01:02 2027] [mpm_prefork:notice] [pid 7:tid 7] AH00163: Apache/2.4.71 (Debian) configured -- resuming normal operations"));
        assert_eq!(
            m("10.0.0.1 - - [02/Dec/2026:19:56:21 -0700] \"GET / HTTP/1.1\" 200"),
            "<IP> - - [<TS>] \"GET <PATH> HTTP/<NUM>\" <NUM>"
        );
        assert_eq!(m("2024-03-01T10:00:00Z INFO started"), "<TS> INFO started");
        assert_eq!(m("May I help"), "May I help");
    }

    #[test]
    fn fast_paths_change_no_template() {
        // Words split at every `char::is_whitespace`, by bytes or not.
        assert_eq!(m("a\x0bb\x0cc\r\nd"), "a b c d", "vertical tab and form feed split words");
        assert_eq!(m("a\u{a0}b\u{3000}c 7"), "a b c <NUM>", "so do no-break and ideographic spaces");
        // Numbers alone: epoch time is a timestamp, a pid or port is not.
        assert_eq!(m("at 1796241330 pid 4242 port 22"), "at <TS> pid <NUM> port <NUM>");
        assert_eq!(m("t=1796241330123 n=12345678901"), "t=<NUM> n=<NUM>", "inside a word: a number");
        assert_eq!(m("1796241330.5 [1796241330]"), "<TS> [<TS>]");
        // Letters: only month and weekday names start a timestamp.
        assert_eq!(m("WED, 02 Dec 2026 19:55:30 +0000 ok"), "<TS> ok");
        assert_eq!(m("december 2 2026 wednesday"), "<TS> wednesday");
        assert_eq!(m("Decade 2 2026"), "Decade <NUM> <NUM>");
        // Plain words are copied; a hex-letter UUID still needs its 36 bytes.
        assert_eq!(m("abcdefab-abcd-abcd-abcd-abcdefabcdef (ok)"), "<UUID> (ok)");
        assert_eq!(m("deadbeef-cafe"), "deadbeef-cafe");
    }

    #[test]
    fn quoted_words_and_not_quoted_text() {
        let line = "The 'BulkEmailSender' feature; \"GET /x HTTP/1.1\"";
        assert_eq!(m(line), "The <STR> feature; \"GET <PATH> HTTP/<NUM>\"");
        assert_eq!(
            m("limit for 'nofile' to; table \"shop.public.orders\": x; add 'carol' to group 'sudo'"),
            "limit for <STR> to; table <STR>: x; add <STR> to group <STR>"
        );
        assert_eq!(m("db=\"shop\" (1, 'dup', 2) '' 'it''s' '<USER>' 'a'b"), "db=<STR> (<NUM>, <STR>, <NUM>) '' 'it''s' '<USER>' 'a'b");
        let off = Masker::new(MaskConfig { quoted: false, ..MaskConfig::default() });
        assert_eq!(off.mask(line), "The 'BulkEmailSender' feature; \"GET <PATH> HTTP/<NUM>\"");
    }

    #[test]
    fn signed_numbers_and_the_root_path() {
        assert_eq!(m("soft=-1, hard=-1: 0/-1/-1/-1/0 x -5 (-2)"), "soft=<NUM>, hard=<NUM>: <NUM>/<NUM>/<NUM>/<NUM>/<NUM> x <NUM> (<NUM>)");
        assert_eq!(m("INV-7 v1-2 ports 10-20 a-1"), "INV-<NUM> v<NUM>-<NUM> ports <NUM>-<NUM> a-<NUM>");
        assert_eq!(m("\"GET / HTTP/1.1\" mounted on /, // x"), "\"GET <PATH> HTTP/<NUM>\" mounted on <PATH>, // x");
    }

    #[test]
    fn commands_to_the_end_of_the_line() {
        assert_eq!(m("CRON[42]: (root) CMD ([42] /usr/bin/x -c 'ls /tmp || exit 1')"), "CRON[<NUM>]: (<USER>) CMD (<CMD>)");
        assert_eq!(m("CRON[42]: (alice) END ([42] /bin/true)"), "CRON[<NUM>]: (<USER>) END (<CMD>)");
        assert_eq!(
            m("sudo: bob : PWD=/srv ; USER=root ; COMMAND=/usr/bin/id -u"),
            "sudo: <USER> : PWD=<PATH> ; USER=<USER> ; COMMAND=<CMD>"
        );
        assert_eq!(m("LOG:  duration: 1.5 ms  statement: SELECT 1/0"), "LOG: duration: <NUM> ms statement: <CMD>");
        assert_eq!(m("[7] postgres@shop STATEMENT:  DROP TABLE big"), "[<NUM>] <USER>@<HOST> STATEMENT: <CMD>");
        // Not a command: no `(user)` before CMD, no text after `statement:`.
        for kept in ["the CMD (x) ran", "run CMD (x) now", "end of statement:", "COMMAND= x"] {
            assert_eq!(m(kept), kept);
        }
        let off = Masker::new(MaskConfig { commands: false, ..MaskConfig::default() });
        assert_eq!(off.mask("ok ; COMMAND=/usr/bin/id -u"), "ok ; COMMAND=<PATH> -u");
    }

    #[test]
    fn values_after_key_are_masked_like_words() {
        assert_eq!(
            m("A1: to=<alice@lab.example>, orig_to=<alice>, status=sent (delivered)"),
            "A<NUM>: to=<<EMAIL>>, orig_to=<<USER>>, status=sent (delivered)"
        );
        assert_eq!(m("message-id=<20261202195616.AAC4CC6172@lab.example>"), "message-id=<<EMAIL>>");
        assert_eq!(m("new user: name=carol, home=/home/carol, shell=/bin/bash"), "new user: name=<USER>, home=<PATH>, shell=<PATH>");
        assert_eq!(m("rhost=::1 --config=/etc/x.conf a=b=c base64=="), "rhost=<IP> --config=<PATH> a=b=c base64==");
        // Not a key: the word is masked as before.
        assert_eq!(m("(uid=0) uid=0,euid=0 http://h/?q=1"), "(uid=<NUM>) uid=<NUM>,euid=<NUM> http://h/?q=<NUM>");
        let off = Masker::new(MaskConfig { values: false, ..MaskConfig::default() });
        assert_eq!(
            off.mask("to=<alice@lab.example>, home=/home/carol, from=<bob>"),
            "to=<alice@lab.example>, home=/home/carol, from=<bob>"
        );
    }

    #[test]
    fn user_names_where_the_line_says_so() {
        assert_eq!(m("Invalid user admin from 10.0.0.1 port 22"), "Invalid user <USER> from <IP> port <NUM>");
        assert_eq!(m("session opened for user bob(uid=1001) by (uid=0)"), "session opened for user <USER>(uid=<NUM>) by (uid=<NUM>)");
        assert_eq!(m("authentication failed for user \"postgres\""), "authentication failed for user \"<USER>\"");
        assert_eq!(
            m("closed by authenticating user root 10.0.0.1 port 22 [preauth]"),
            "closed by authenticating user <USER> <IP> port <NUM> [preauth]"
        );
        assert_eq!(
            m("User null approved; delete user 'mallory'; user deploy."),
            "User <USER> approved; delete user '<USER>'; user <USER>."
        );
        assert_eq!(m("logname= uid=0 tty=ssh ruser= rhost=::1 user=root"), "logname= uid=<NUM> tty=ssh ruser= rhost=<IP> user=<USER>");
        assert_eq!(m("bob : PWD=/srv ; USER=root ; COMMAND=/usr/bin/id"), "bob : PWD=<PATH> ; USER=<USER> ; COMMAND=<CMD>");
        assert_eq!(m("su[7]: (to alice) bob on none; customer initech has"), "su[<NUM>]: (to <USER>) <USER> on none; customer <USER> has");
        assert_eq!(
            m("could not identify password for [alice]; pickup: from=<root>"),
            "could not identify password for [<USER>]; pickup: from=<<USER>>"
        );
        assert_eq!(
            m("connection authenticated: identity=\"report\" method=md5"),
            "connection authenticated: identity=\"<USER>\" method=md<NUM>"
        );
        assert_eq!(m("Failed password for root from ::1 port 22 ssh2"), "Failed password for <USER> from <IP> port <NUM> ssh<NUM>");
        assert_eq!(
            m("Failed password for invalid user test from ::1; waiting for the from"),
            "Failed password for invalid user <USER> from <IP>; waiting for the from"
        );
        assert_eq!(m("[4242] postgres@shop LOG: x; mail root@vm.lab.example"), "[<NUM>] <USER>@<HOST> LOG: x; mail <EMAIL>");
        // Prose after `user`, capitals, numbers: kept.
        for kept in [
            "check pass; user unknown",
            "bob : user NOT in sudoers",
            "uploaded by user User<NUM>.",
            "user session opened",
            "the user is locked",
            "user <NUM> left",
            "user: alice",
            "user alice/bob",
            "Foo@Bar a@B",
        ] {
            assert_eq!(m(kept), kept);
        }
        let off = Masker::new(MaskConfig { users: false, ..MaskConfig::default() });
        assert_eq!(off.mask("Invalid user admin; user=root postgres@shop"), "Invalid user admin; user=root postgres@shop");
        assert!(NOT_NAMES.windows(2).all(|w| w[0] < w[1]), "sorted, for the binary search");
    }

    #[test]
    fn a_proxys_backend_server_and_termination_state() {
        let http = |route: &str, state: &str| {
            format!(
                "haproxy[31633]: 127.0.0.1:51204 [02/Dec/2026:19:56:21.373] web {route} 0/-1/-1/-1/0 503 217 - - {state} 1/1/0/0/0 0/0 \"GET /dead/x HTTP/1.1\""
            )
        };
        let template = m(&http("app/web1", "----"));
        assert_eq!(
            template,
            "haproxy[<NUM>]: <IP> [<TS>] web <BACKEND>/<SERVER> <NUM>/<NUM>/<NUM>/<NUM>/<NUM> <NUM> <NUM> - - <STATE> <NUM>/<NUM>/<NUM>/<NUM>/<NUM> <NUM>/<NUM> \"GET <PATH> HTTP/<NUM>\""
        );
        assert_eq!(m(&http("dead/<NOSRV>", "SC--")), template);
        assert_eq!(m(&http("api/srv-2.b", "cD")), template);
        // The TCP format: `Tw/Tc/Tt bytes state counts queues`.
        assert_eq!(
            m("haproxy[7]: 10.0.0.1:5000 [02/Dec/2026:19:56:21.373] db pg/pg1 0/0/5007 212 cD 2/2/1/1/0 0/0"),
            "haproxy[<NUM>]: <IP> [<TS>] db <BACKEND>/<SERVER> <NUM>/<NUM>/<NUM> <NUM> <STATE> <NUM>/<NUM>/<NUM>/<NUM>/<NUM> <NUM>/<NUM>"
        );
        // Not those fields: no accept date two words before, no timers
        // after, no queues after the counts, a flag word of another length.
        for kept in [
            "moved app/web1 to 0/0/2/0/2",
            "[x] web app/web1 now",
            "ok ---- 1/1/0/0/0 later",
            "ok --- 1/1/0/0/0 0/0",
            "[x] web a/b/c 1/2/3",
        ] {
            let masked = m(kept);
            assert!(!masked.contains("<BACKEND>") && !masked.contains("<STATE>"), "{kept:?} → {masked:?}");
        }
        let off = Masker::new(MaskConfig { proxy: false, ..MaskConfig::default() });
        assert!(off.mask(&http("app/web1", "----")).contains("app/web<NUM>"));
    }

    #[test]
    fn a_bundle_from_before_values_and_users_masks_as_it_was_trained() {
        let old: MaskConfig = toml::from_str("numbers = true\nhex = true\nuuids = true\nipv4 = true\nipv6 = true\nemails = true\npaths = true\ntimestamps = true\nquoted = false\n").unwrap();
        assert!(!old.values && !old.users && !old.commands && !old.quoted && !old.proxy);
        assert_eq!(MaskConfig { values: true, users: true, commands: true, quoted: true, proxy: true, ..old }, MaskConfig::default());
        let new: MaskConfig = toml::from_str(&toml::to_string(&MaskConfig::default()).unwrap()).unwrap();
        assert_eq!(new, MaskConfig::default());
    }

    #[test]
    fn each_kind_can_be_switched_off() {
        let none = Masker::new(MaskConfig::none());
        let line = "user 42 at 10.0.0.1 id 6cf7122a-f65e-49cc-8349-6cf7122af137";
        assert_eq!(none.mask(line), line);
        let only_numbers = Masker::new(MaskConfig::from_names("numbers").unwrap());
        assert_eq!(only_numbers.mask("user 42 at 10.0.0.1"), "user <NUM> at <NUM>");
        assert!(MaskConfig::from_names("numbers,bogus").unwrap_err().to_string().contains("bogus"));
    }

    #[test]
    fn idempotent_on_tricky_lines() {
        for line in [
            "nova.compute.claims [req-01d570b0-78a7-4719-b7a3-429fd7dc5a3f 113d3a99c3da401fbd62cc2caa5b96d2] [instance: d54b44eb-2d1a-4aa2-ba6b-074d35f8f12c] memory 2048 MB",
            "a@b.c <NUM> <HEX>x 1.2.3.4.5 ::: [::1] 'q' \"\" 0x 12,345.6 v2.0.1-rc3",
            "ünïcödé 🚀 42日 /päth/ö",
            "Invalid user admin from 10.0.0.1; user bob(uid=1001) user=root to=<a@b.org>, x=<USER> postgres@shop user '<USER>'",
            "su: (to bob) root on x; for [alice] from=<bob> name=carol 'nofile' \"t\": soft=-1 GET / (root) CMD (x -f 'y')",
            "COMMAND=/bin/ls -l; statement: SELECT '<USER>' 'a",
            "1.2.3.4:5 [02/Dec/2026:19:56:21.373] web dead/<NOSRV> 0/-1/-1/-1/0 503 217 - - SC-- 1/1/0/0/+1 0/0 \"GET / HTTP/1.1\"",
        ] {
            for cfg in [MaskConfig::default(), MaskConfig { quoted: true, ..MaskConfig::default() }] {
                let masker = Masker::new(cfg);
                let once = masker.mask(line);
                assert_eq!(masker.mask(&once), once, "line {line:?}");
            }
        }
    }
}
