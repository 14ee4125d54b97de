//! `eval --report FILE`: one self-contained HTML page (inline CSS and SVG, no
//! script, nothing fetched) with the headline figures, per-label scores, the
//! confusion matrix as a heat map, lines per tier, the confidence histogram
//! with the threshold marked, the threshold curve (coverage and precision at
//! each level), and the worst confusions with example lines.

use std::collections::BTreeMap;
use std::fmt::Write;

use logsift_core::offline::scores::Evaluation;
use logsift_core::{Decision, Record, TierKind};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The model's confidence behind a decision: kept by the model, or its best
/// guess below the threshold (as the `detail` column says it).
fn model_confidence(d: &Decision) -> Option<(f32, String)> {
    match d.tier {
        TierKind::Model => Some((d.confidence, d.label.to_string())),
        TierKind::None => {
            let detail = d.detail.as_str();
            let rest = detail.split("best guess '").nth(1)?;
            let (label, after) = rest.split_once("' at ")?;
            let conf: f32 = after.split(|c: char| c != '.' && !c.is_ascii_digit()).next()?.parse().ok()?;
            Some((conf, label.to_string()))
        }
        _ => None,
    }
}

/// The page.
pub fn html(title: &str, ev: &Evaluation, rows: &[(Record, String)], decisions: &[Decision], threshold: Option<f32>) -> String {
    let mut page = Page { o: String::new(), ev, rows, decisions, threshold };
    let o = &mut page.o;
    let _ = write!(
        o,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{t}</title><style>
body{{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;margin:24px;max-width:1200px}}
h1{{font-size:20px}} h2{{font-size:16px;margin-top:28px}} table{{border-collapse:collapse}} td,th{{padding:4px 8px;border-bottom:1px solid #e3e7ee;text-align:right}}
th:first-child,td:first-child{{text-align:left}} .cards{{display:flex;gap:12px;flex-wrap:wrap}} .card{{border:1px solid #d9dee7;border-radius:8px;padding:10px 14px;min-width:140px}}
.card b{{display:block;font-size:22px}} .heat td{{text-align:center;min-width:34px;border:1px solid #fff}} code{{font-size:12px}} .ex{{color:#5b6475;font-family:ui-monospace,monospace;font-size:12px}}
</style></head><body><h1>{t}</h1>"#,
        t = esc(title)
    );
    page.headline();
    page.labels();
    page.confusion();
    page.tiers();
    page.confidence();
    page.curve();
    page.worst();
    page.o.push_str("</table></body></html>\n");
    page.o
}

/// The report being written, and what it is written from.
struct Page<'a> {
    o: String,
    ev: &'a Evaluation,
    rows: &'a [(Record, String)],
    decisions: &'a [Decision],
    threshold: Option<f32>,
}

impl Page<'_> {
    /// The headline figures, as cards.
    fn headline(&mut self) {
        let (o, ev) = (&mut self.o, self.ev);
        let pct = |x: u64| 100.0 * x as f64 / ev.rows.max(1) as f64;
        let _ = write!(o, r#"<div class="cards" id="headline">"#);
        let cards = [
            ("accuracy", format!("{:.4}", ev.accuracy)),
            ("macro-F1", format!("{:.4}", ev.macro_f1)),
            ("lines", ev.rows.to_string()),
            ("rules", format!("{:.1}%", pct(ev.tiers["rules"]))),
            ("model", format!("{:.1}%", pct(ev.tiers["model"]))),
            ("LLM", format!("{:.1}%", pct(ev.tiers["llm"]))),
            ("Unclassified", format!("{} ({:.1}%)", ev.tiers["unclassified"], pct(ev.tiers["unclassified"]))),
        ];
        for (k, v) in cards {
            let _ = write!(o, r#"<div class="card">{k}<b>{v}</b></div>"#);
        }
        let _ = write!(o, "</div><p>macro-F1 over the labels the model and rules can give: {}</p>", esc(&ev.scored_labels.join(", ")));
    }

    /// Precision, recall and F1 per label.
    fn labels(&mut self) {
        let (o, ev) = (&mut self.o, self.ev);
        let _ = write!(
            o,
            r#"<h2>Per label</h2><table id="labels"><tr><th>label</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>"#
        );
        for (l, s) in &ev.labels {
            let _ = write!(
                o,
                "<tr><td>{}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{}</td></tr>",
                esc(l),
                s.precision,
                s.recall,
                s.f1,
                s.support
            );
        }
        o.push_str("</table>");
    }

    /// The confusion matrix as a heat map.
    fn confusion(&mut self) {
        let (o, ev) = (&mut self.o, self.ev);
        let c = &ev.confusion;
        let _ = write!(
            o,
            r#"<h2>Confusion matrix</h2><p>Rows: true label; columns: predicted. Shade: share of the row.</p><table class="heat" id="confusion"><tr><th></th>"#
        );
        for l in &c.labels {
            let _ = write!(o, r#"<th title="{0}">{1}</th>"#, esc(l), esc(&l.chars().filter(|c| c.is_uppercase()).collect::<String>()));
        }
        o.push_str("</tr>");
        for (i, (l, row)) in c.labels.iter().zip(&c.matrix).enumerate() {
            let total: u64 = row.iter().sum();
            let _ = write!(o, "<tr><th>{}</th>", esc(l));
            for (j, v) in row.iter().enumerate() {
                let a = if total == 0 { 0.0 } else { *v as f64 / total as f64 };
                let (r, g, b) = if i == j { (47, 155, 87) } else { (194, 84, 63) };
                let fg = if a > 0.55 { "#fff" } else { "#1d2330" };
                let shown = if *v == 0 { String::new() } else { v.to_string() };
                let _ = write!(o, r#"<td style="background:rgba({r},{g},{b},{a:.3});color:{fg}">{shown}</td>"#);
            }
            o.push_str("</tr>");
        }
        o.push_str("</table>");
    }

    /// Lines per tier, as bars.
    fn tiers(&mut self) {
        let (o, ev) = (&mut self.o, self.ev);
        let pct = |x: u64| 100.0 * x as f64 / ev.rows.max(1) as f64;
        let _ = write!(o, r#"<h2>Lines per tier</h2><svg id="tiers" width="640" height="120" xmlns="http://www.w3.org/2000/svg">"#);
        let colors = [("rules", "#3f9b57"), ("model", "#2f6fdb"), ("llm", "#9b4fc4"), ("unclassified", "#c2543f")];
        let max = colors.iter().map(|(t, _)| ev.tiers[*t]).max().unwrap_or(1).max(1) as f64;
        for (i, (t, col)) in colors.iter().enumerate() {
            let v = ev.tiers[*t];
            let w = 440.0 * v as f64 / max;
            let y = i * 28;
            let _ = write!(
                o,
                r#"<text x="100" y="{ty}" text-anchor="end" font-size="12">{t}</text><rect x="108" y="{y}" width="{w:.1}" height="20" fill="{col}"/><text x="{tx:.1}" y="{ty}" font-size="12">{v} ({p:.1}%)</text>"#,
                ty = y + 15,
                tx = 114.0 + w,
                p = pct(v)
            );
        }
        o.push_str("</svg>");
    }

    /// The model's confidence, right and wrong, as a histogram.
    fn confidence(&mut self) {
        let (o, rows, decisions, threshold) = (&mut self.o, self.rows, self.decisions, self.threshold);
        let mut bins = [[0u64; 2]; 20];
        for ((_, truth), d) in rows.iter().zip(decisions) {
            if let Some((conf, guess)) = model_confidence(d) {
                let b = ((conf.clamp(0.0, 1.0) * 20.0) as usize).min(19);
                bins[b][usize::from(guess != *truth)] += 1;
            }
        }
        let hmax = bins.iter().map(|b| b[0] + b[1]).max().unwrap_or(1).max(1) as f64;
        let _ = write!(
            o,
            r#"<h2>Model confidence</h2><p>The model's top probability for each line it was asked about (kept above the threshold, or its guess below it); green: the guess was right, red: wrong.</p><svg id="confidence" width="640" height="220" xmlns="http://www.w3.org/2000/svg">"#
        );
        for (i, b) in bins.iter().enumerate() {
            let x = 40.0 + i as f64 * 28.0;
            let (hr, hw) = (160.0 * b[0] as f64 / hmax, 160.0 * b[1] as f64 / hmax);
            let _ = write!(
                o,
                r##"<rect class="ok" x="{x}" y="{y1:.1}" width="26" height="{hr:.1}" fill="#3f9b57"/><rect class="bad" x="{x}" y="{y2:.1}" width="26" height="{hw:.1}" fill="#c2543f"/>"##,
                y1 = 180.0 - hr,
                y2 = 180.0 - hr - hw
            );
        }
        for t in 0..=10 {
            let x = 40.0 + t as f64 * 56.0;
            let _ = write!(o, r#"<text x="{x}" y="196" font-size="11" text-anchor="middle">{:.1}</text>"#, t as f64 / 10.0);
        }
        if let Some(th) = threshold {
            let x = 40.0 + th as f64 * 560.0;
            let _ = write!(
                o,
                r##"<line id="threshold" x1="{x:.1}" y1="10" x2="{x:.1}" y2="182" stroke="#1d2330" stroke-dasharray="4 3"/><text x="{tx:.1}" y="20" font-size="12">threshold {th:.2}</text>"##,
                tx = x + 4.0
            );
        }
        o.push_str("</svg>");
    }

    /// The threshold's trade-off, as a table.
    fn curve(&mut self) {
        let (o, rows, decisions, threshold) = (&mut self.o, self.rows, self.decisions, self.threshold);
        // The threshold's trade-off on these lines: coverage and precision of the
        // model's answers kept at each level (the rest would be guesses or go to the LLM).
        let asked: Vec<(f32, bool)> =
            rows.iter().zip(decisions).filter_map(|((_, truth), d)| model_confidence(d).map(|(c, g)| (c, g == *truth))).collect();
        if !asked.is_empty() {
            let _ = write!(
                o,
                r#"<h2>Threshold curve</h2><p>Of the {} lines the model was asked about: the share it is confident on at each threshold, and how many of those are right.</p><table id="curve"><tr><th>threshold</th><th>confident</th><th>precision</th></tr>"#,
                asked.len()
            );
            for k in 0..20 {
                let t = k as f32 * 0.05;
                let kept: Vec<bool> = asked.iter().filter(|(c, _)| *c >= t - 1e-6).map(|(_, ok)| *ok).collect();
                let right = kept.iter().filter(|ok| **ok).count();
                let mark = threshold.is_some_and(|th| (th - t).abs() < 0.025);
                let _ = write!(
                    o,
                    r#"<tr{}><td>{t:.2}</td><td>{:.1}%</td><td>{:.4}</td></tr>"#,
                    if mark { r#" class="chosen""# } else { "" },
                    100.0 * kept.len() as f64 / asked.len() as f64,
                    if kept.is_empty() { 0.0 } else { right as f64 / kept.len() as f64 }
                );
            }
            o.push_str("</table>");
        }
    }

    /// The worst confusions, with examples.
    fn worst(&mut self) {
        let (o, rows, decisions) = (&mut self.o, self.rows, self.decisions);
        let mut pairs: BTreeMap<(String, String), Vec<&str>> = BTreeMap::new();
        for ((r, truth), d) in rows.iter().zip(decisions) {
            if d.is_classified() && &*d.label != truth.as_str() {
                pairs.entry((truth.clone(), d.label.to_string())).or_default().push(&r.message);
            }
        }
        let mut pairs: Vec<_> = pairs.into_iter().collect();
        pairs.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
        let _ =
            write!(o, r#"<h2>Worst confusions</h2><table id="worst"><tr><th>true → predicted</th><th>lines</th><th>examples</th></tr>"#);
        if pairs.is_empty() {
            o.push_str(r#"<tr><td colspan="3">none: every labeled line got its true label or none</td></tr>"#);
        }
        for ((t, p), lines) in pairs.iter().take(10) {
            let ex: Vec<String> = lines
                .iter()
                .take(3)
                .map(|l| format!(r#"<div class="ex">{}</div>"#, esc(&l.chars().take(200).collect::<String>())))
                .collect();
            let _ = write!(
                o,
                "<tr><td>{} → {}</td><td>{}</td><td style=\"text-align:left\">{}</td></tr>",
                esc(t),
                esc(p),
                lines.len(),
                ex.join("")
            );
        }
    }
}
