//! Multi-line events in plain text: a stack trace is one event, not forty
//! lines of `at …` each classified alone.
//!
//! A line that *continues* an event is joined to it with `\n`; the event is
//! classified once on its whole text and comes out once, on the row of its
//! first line, with the number of input lines it covers
//! ([`Record::lines`](crate::record::Record::lines)): the lines in equal the sum of `lines` out, and the
//! order is kept.
//!
//! [`Multiline::Auto`] (the CLI's default for text input) treats as a
//! continuation:
//! * a line that starts with whitespace (`\tat …`, `  File "x.py", line 3`,
//!   `\t... 12 more`);
//! * a line that starts with `at ` or `Caused by:` or is `... N more`
//!   (traces whose indentation a collector stripped);
//! * a JVM exception line, a qualified class name ending in `Exception`,
//!   `Error` or `Throwable`, alone or before `: message`
//!   (`java.net.ConnectException: Connection refused`): java.util.logging and
//!   logback print it on the line after the message it belongs to;
//! * `Traceback (most recent call last):`, and every line after it up to and
//!   including the exception line (`ValueError: bad input`), the first one
//!   that is not indented.
//!
//! [`Multiline::Pattern`] takes a regular expression instead: a line it
//! matches continues the event before it. Lines are never joined across a
//! blank line, a bad line (which stays a record of its own, with its
//! error), or past the length limit for one message.
//!
//! CSV rows and JSON objects are never joined: a row is already an event.
//!
//! On a live stream the last event cannot be known complete until the next
//! line starts it over; [`Joiner::finish`] lets the reader end it when the
//! input goes quiet instead (the CLI: after 200 ms without a line).

use crate::record::{Passthrough, Record};

/// How lines of text become events.
#[derive(Clone, Debug, Default)]
pub enum Multiline {
    /// One line, one record.
    #[default]
    Off,
    /// Stack traces and indented continuations join the line they continue.
    Auto,
    /// Lines matching the expression join the line before them.
    Pattern(regex::Regex),
}

impl Multiline {
    /// `auto`, `off`, or a regular expression.
    pub fn parse(s: &str) -> Result<Self, regex::Error> {
        Ok(match s {
            "auto" => Multiline::Auto,
            "off" | "none" => Multiline::Off,
            re => Multiline::Pattern(regex::Regex::new(re)?),
        })
    }

    /// Whether `line` continues the event before it; `in_traceback`: a
    /// Python traceback is open.
    fn continues(&self, line: &str, in_traceback: bool) -> bool {
        match self {
            Multiline::Off => false,
            Multiline::Pattern(re) => re.is_match(line),
            Multiline::Auto => {
                in_traceback
                    || line.starts_with([' ', '\t'])
                    || line.starts_with("at ")
                    || line.starts_with("Caused by:")
                    || line.starts_with(TRACEBACK)
                    || (line.starts_with("... ") && line.ends_with(" more"))
                    || is_exception_line(line)
            }
        }
    }
}

/// `java.net.ConnectException: Connection refused`, `org.x.FooError`.
fn is_exception_line(line: &str) -> bool {
    // The name is the line's leading run of name bytes, and it must end the
    // line or be followed by ": " (the same as the text before the first
    // ": ", all of name bytes; found without searching every line for ": ").
    let end = line.bytes().position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'$'))).unwrap_or(line.len());
    let (name, rest) = line.split_at(end);
    if !(rest.is_empty() || rest.starts_with(": ")) {
        return false;
    }
    let Some((package, class)) = name.rsplit_once('.') else {
        return false;
    };
    !package.is_empty()
        && class.starts_with(|c: char| c.is_ascii_uppercase())
        && ["Exception", "Error", "Throwable"].iter().any(|s| class.ends_with(s))
}

const TRACEBACK: &str = "Traceback (most recent call last):";

/// Joins text records into events as they arrive (see the module docs):
/// [`Joiner::push`] each record in order, [`Joiner::finish`] when the input
/// ends or has been quiet long enough that the held event is complete (a
/// live stream: the CLI waits 200 ms). Records that are not plain text
/// (CSV rows, JSON objects) pass through unjoined.
pub struct Joiner {
    mode: Multiline,
    max_bytes: usize,
    /// The event being built, and the row of its last line.
    pending: Option<(Record, u64)>,
    in_traceback: bool,
}

impl Joiner {
    /// Joins by `mode`; an event grows no longer than `max_bytes` (the limit
    /// of one message).
    pub fn new(mode: Multiline, max_bytes: usize) -> Self {
        Joiner { mode, max_bytes, pending: None, in_traceback: false }
    }

    /// Whether an event is held, waiting for its next line or the end.
    pub fn holding(&self) -> bool {
        self.pending.is_some()
    }

    /// The held event, complete: the input ended or went quiet.
    pub fn finish(&mut self) -> Option<Record> {
        self.in_traceback = false;
        self.pending.take().map(|(r, _)| r)
    }

    /// Takes the next record; appends to `out` the records it completes, in order.
    pub fn push(&mut self, rec: Record, out: &mut Vec<Record>) {
        let text = matches!(rec.passthrough, Passthrough::None);
        if rec.invalid.is_some() || !text || matches!(self.mode, Multiline::Off) {
            // A bad line, or a row: a record of its own, in its place.
            out.extend(self.finish());
            out.push(if text { Record { lines: 1, ..rec } } else { rec });
            return;
        }
        let joins = match &self.pending {
            Some((event, last)) => {
                rec.row == last + 1
                    && event.message.len() + 1 + rec.message.len() <= self.max_bytes
                    && self.mode.continues(&rec.message, self.in_traceback)
            }
            None => false,
        };
        if !joins {
            out.extend(self.finish());
            self.in_traceback = rec.message.starts_with(TRACEBACK);
            let row = rec.row;
            self.pending = Some((Record { lines: 1, ..rec }, row));
            return;
        }
        if rec.message.starts_with(TRACEBACK) {
            self.in_traceback = true;
        } else if self.in_traceback && !rec.message.starts_with([' ', '\t']) {
            // The exception line closes the traceback.
            self.in_traceback = false;
        }
        if let Some((event, last)) = self.pending.as_mut() {
            event.message.push('\n');
            event.message.push_str(&rec.message);
            event.lines += 1;
            *last = rec.row;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{InputOptions, LineInput};

    /// Every record of `input` through a joiner, then what it holds at the end.
    fn join(input: &[u8], mode: Multiline, max_bytes: usize) -> Vec<Record> {
        let mut j = Joiner::new(mode, max_bytes);
        let mut out = vec![];
        for r in LineInput::new(input, "t.log", false, InputOptions::default()) {
            j.push(r.unwrap(), &mut out);
        }
        out.extend(j.finish());
        out
    }

    fn events(text: &str, mode: Multiline) -> Vec<Record> {
        join(text.as_bytes(), mode, 64 * 1024)
    }

    const JAVA: &str = "2026-12-02 10:00:01 INFO billing started\n\
2026-12-02 10:00:02 ERROR billing failed\n\
java.lang.IllegalStateException: no address\n\
\tat Billing.issue(Billing.java:40)\n\
\tat Billing.main(Billing.java:12)\n\
Caused by: java.lang.NullPointerException\n\
\t... 2 more\n\
2026-12-02 10:00:03 INFO billing done\n";

    #[test]
    fn a_java_trace_is_one_event_with_its_span() {
        let ev = events(JAVA, Multiline::Auto);
        let spans: Vec<(u64, u32)> = ev.iter().map(|r| (r.row, r.lines)).collect();
        // The exception line joins the message it belongs to.
        assert_eq!(spans, [(1, 1), (2, 6), (8, 1)]);
        assert!(ev[1]
            .message
            .starts_with("2026-12-02 10:00:02 ERROR billing failed\njava.lang.IllegalStateException: no address\n\tat Billing.issue"));
        assert!(ev[1].message.ends_with("Caused by: java.lang.NullPointerException\n\t... 2 more"));
        assert_eq!(ev.iter().map(|r| r.lines as usize).sum::<usize>(), JAVA.lines().count());
        // Off: every line a record.
        assert_eq!(events(JAVA, Multiline::Off).len(), 8);
    }

    #[test]
    fn exception_lines() {
        for yes in ["java.net.ConnectException: Connection refused", "org.acme.Billing$LedgerError", "a.b.Throwable: x: y"] {
            assert!(is_exception_line(yes), "{yes}");
        }
        for no in [
            "Exception in thread \"main\" java.lang.Error",
            "ConnectException: refused",
            "java.lang.String: x",
            "see x.Error now",
            "java.lang.Error:no space",
            "java.lang.Error:",
            "java.lang.Error ",
            "java.lang.Error;: x",
        ] {
            assert!(!is_exception_line(no), "{no}");
        }
    }

    #[test]
    fn a_python_traceback_runs_to_its_exception_line() {
        let text = concat!(
            "ERROR:shopd:order 17 failed\n",
            "Traceback (most recent call last):\n",
            "  File \"shopd.py\", line 40, in pay\n",
            "    charge(order)\n",
            "ValueError: card declined\n",
            "INFO:shopd:order 18 paid\n"
        );
        let ev = events(text, Multiline::Auto);
        assert_eq!(ev.iter().map(|r| (r.row, r.lines)).collect::<Vec<_>>(), [(1, 5), (6, 1)]);
        assert!(ev[0].message.ends_with("ValueError: card declined"));
    }

    #[test]
    fn blank_and_bad_lines_end_an_event_and_stay_in_place() {
        let text = b"first\n  more\n\n  after a blank\nok\n  cont\nbad \x00 line\n  next\n";
        let ev = join(&text[..], Multiline::Auto, 1024);
        let got: Vec<(u64, u32, bool)> = ev.iter().map(|r| (r.row, r.lines, r.invalid.is_some())).collect();
        assert_eq!(got, [(1, 2, false), (4, 1, false), (5, 2, false), (7, 1, true), (8, 1, false)]);
    }

    #[test]
    fn rows_pass_through_and_a_quiet_input_finishes_the_event() {
        let mut j = Joiner::new(Multiline::Auto, 1024);
        let mut out = vec![];
        let text = |row, m: &str| Record { row, message: m.into(), ..Record::default() };
        j.push(text(1, "ERROR failed"), &mut out);
        j.push(text(2, "  detail"), &mut out);
        assert!(out.is_empty() && j.holding());
        let row =
            Record { row: 3, message: "  not joined".into(), passthrough: Passthrough::Columns(Default::default()), ..Record::default() };
        j.push(row, &mut out);
        assert_eq!(out.iter().map(|r| (r.row, r.lines)).collect::<Vec<_>>(), [(1, 2), (3, 0)]);
        j.push(text(4, "next"), &mut out);
        assert_eq!(j.finish().map(|r| (r.row, r.lines)), Some((4, 1)));
        assert!(!j.holding() && j.finish().is_none());
    }

    #[test]
    fn a_pattern_and_the_length_limit() {
        let text = "a\n+b\n+c\nd\n";
        let re = Multiline::parse(r"^\+").unwrap();
        assert_eq!(events(text, re.clone()).iter().map(|r| r.lines).collect::<Vec<_>>(), [3, 1]);
        let capped: Vec<u32> = join(text.as_bytes(), re, 4).iter().map(|r| r.lines).collect();
        assert_eq!(capped, [2, 1, 1], "a+b is 3 bytes, a+b+c would be 5");
        assert!(Multiline::parse("(").is_err());
    }
}
