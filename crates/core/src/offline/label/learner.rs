//! What the labelling session learns from each decision: a softmax
//! regression warm-started from its last weights, and a nearest-decided-
//! template vote, blended; and how far to trust either for a template.
//!
//! Both are cheap to update: a decision adds one training row, and the
//! regression takes a few dozen gradient steps from where it stood (never a
//! fit from zero); the vote keeps, per template and label, the best cosine to
//! a decided template of that label, raised by one pass over the templates a
//! decision. A refresh on a few thousand templates is milliseconds.
//!
//! Confidence is the blend's top probability times how close the template is
//! to anything decided ([`Learner::reach`]): a template unlike every decided
//! one is uncertain whatever the regression says, which is what sends the
//! session to parts of the log (and of the label space) not yet seen.

use rayon::prelude::*;

use crate::head::Rows;

/// Template vectors: the head's [`Rows`] (dense for MiniLM, sparse for the
/// hashed lexical n-grams), one unit vector a template.
pub type Vectors = Rows;

/// Widths from which vectors are kept sparse.
const SPARSE_FROM: usize = 4096;

/// What the session needs of rows beyond what training the head does: rows
/// added a batch at a time, cosines, and `f32` products for the warm steps.
impl Rows {
    /// No rows yet, of width `dim`: sparse when wide (hashed n-grams), dense
    /// otherwise (a neural encoder's).
    pub fn empty(dim: usize) -> Rows {
        if dim >= SPARSE_FROM {
            Rows::Sparse { dim, rows: vec![] }
        } else {
            Rows::Dense { dim, data: vec![] }
        }
    }

    /// Appends encoder output (a batch at a time, so that wide dense
    /// vectors never pile up).
    pub fn extend(&mut self, vectors: Vec<Vec<f32>>) {
        match self {
            Rows::Dense { data, .. } => vectors.iter().for_each(|v| data.extend_from_slice(v)),
            Rows::Sparse { rows, .. } => {
                rows.extend(vectors.iter().map(|v| v.iter().enumerate().filter(|(_, &x)| x != 0.0).map(|(i, &x)| (i as u32, x)).collect()))
            }
        }
    }

    /// The cosine of row `t` with every row: a sparse row is scattered once
    /// into a buffer, so a sparse product costs one look-up per value.
    pub fn cos_all(&self, t: usize) -> Vec<f32> {
        match self {
            Rows::Dense { dim, data } => {
                let row = &data[t * dim..(t + 1) * dim];
                data.par_chunks_exact(*dim).map(|r| r.iter().zip(row).map(|(a, b)| a * b).sum()).collect()
            }
            Rows::Sparse { dim, rows } => {
                let mut buf = vec![0.0f32; *dim];
                rows[t].iter().for_each(|&(j, x)| buf[j as usize] = x);
                rows.par_iter().map(|r| r.iter().map(|&(j, x)| x * buf[j as usize]).sum()).collect()
            }
        }
    }

    /// Cosine of rows `i` and `j` (rows are unit vectors).
    pub fn cos(&self, i: usize, j: usize) -> f32 {
        match self {
            Rows::Dense { dim, data } => data[i * dim..(i + 1) * dim].iter().zip(&data[j * dim..(j + 1) * dim]).map(|(a, b)| a * b).sum(),
            Rows::Sparse { rows, .. } => {
                let (a, b) = (&rows[i], &rows[j]);
                let (mut x, mut y, mut s) = (0, 0, 0.0f32);
                while x < a.len() && y < b.len() {
                    match a[x].0.cmp(&b[y].0) {
                        std::cmp::Ordering::Less => x += 1,
                        std::cmp::Ordering::Greater => y += 1,
                        std::cmp::Ordering::Equal => {
                            s += a[x].1 * b[y].1;
                            x += 1;
                            y += 1;
                        }
                    }
                }
                s
            }
        }
    }

    fn dot32(&self, i: usize, w: &[f32]) -> f32 {
        match self {
            Rows::Dense { dim, data } => data[i * dim..(i + 1) * dim].iter().zip(w).map(|(a, b)| a * b).sum(),
            Rows::Sparse { rows, .. } => rows[i].iter().map(|&(j, x)| x * w[j as usize]).sum(),
        }
    }

    fn axpy32(&self, i: usize, a: f32, g: &mut [f32]) {
        match self {
            Rows::Dense { dim, data } => data[i * dim..(i + 1) * dim].iter().zip(g).for_each(|(x, g)| *g += a * x),
            Rows::Sparse { rows, .. } => rows[i].iter().for_each(|&(j, x)| g[j as usize] += a * x),
        }
    }
}

/// One training row: a template, a label index, a weight.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Taught {
    /// Template index.
    pub template: usize,
    /// Label index.
    pub label: usize,
}

/// The session's model.
pub struct Learner {
    labels: usize,
    dim: usize,
    /// `labels × dim` weights, then `labels` biases.
    w: Vec<f32>,
    b: Vec<f32>,
    /// Per template, per label: the best cosine to a taught template of that label.
    best: Vec<Vec<f32>>,
    /// The similarity of two unrelated templates (the mean cosine of random pairs).
    floor: f32,
    taught: Vec<Taught>,
}

/// Gradient steps per update: enough to follow one new row from warm weights.
const STEPS: usize = 40;
/// L2 strength of the regression.
const LAMBDA: f32 = 1e-3;
/// Temperature of the vote's softmax over best cosines.
const VOTE_T: f32 = 0.05;

/// A template's prediction: the blend's top label and the trust in it.
#[derive(Clone, Debug, Default)]
pub struct Prediction {
    /// The most probable label.
    pub label: Option<usize>,
    /// The blend's top probability × `reach`: how far to trust `label`.
    pub confidence: f32,
    /// How close the template is to anything taught, 0–1.
    pub reach: f32,
}

impl Learner {
    /// A learner over `vectors`; nothing taught yet.
    pub fn new(vectors: &Vectors) -> Learner {
        let n = vectors.len();
        // The floor: the mean cosine of up to 4,000 fixed pseudo-random pairs.
        let pairs = (n * (n.saturating_sub(1)) / 2).min(4000);
        let mut sum = 0.0f32;
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut count = 0;
        for _ in 0..pairs {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let i = (state >> 33) as usize % n;
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let j = (state >> 33) as usize % n;
            if i != j {
                sum += vectors.cos(i, j);
                count += 1;
            }
        }
        let floor = if count > 0 { (sum / count as f32).clamp(0.0, 0.9) } else { 0.0 };
        Learner { labels: 0, dim: vectors.dim(), w: vec![], b: vec![], best: vec![vec![]; n], floor, taught: vec![] }
    }

    fn grow(&mut self, labels: usize) {
        if labels > self.labels {
            self.w.resize(labels * self.dim, 0.0);
            self.b.resize(labels, 0.0);
            self.best.iter_mut().for_each(|b| b.resize(labels, -1.0));
            self.labels = labels;
        }
    }

    /// Teaches one row (label indices may grow) and updates both parts.
    pub fn teach(&mut self, vectors: &Vectors, row: Taught) {
        self.grow(row.label + 1);
        self.taught.push(row);
        let (t, l) = (row.template, row.label);
        let cos = vectors.cos_all(t);
        self.best.iter_mut().zip(cos).for_each(|(b, c)| {
            if c > b[l] {
                b[l] = c;
            }
        });
        self.fit(vectors, STEPS);
    }

    /// Forgets the last row taught of `template` (an undo) and refits the vote from the rest.
    pub fn forget(&mut self, vectors: &Vectors, template: usize) {
        if let Some(pos) = self.taught.iter().rposition(|r| r.template == template) {
            self.taught.remove(pos);
        }
        self.best.iter_mut().for_each(|b| b.iter_mut().for_each(|v| *v = -1.0));
        for r in self.taught.clone() {
            let cos = vectors.cos_all(r.template);
            self.best.iter_mut().zip(cos).for_each(|(b, c)| {
                if c > b[r.label] {
                    b[r.label] = c;
                }
            });
        }
        self.fit(vectors, STEPS);
    }

    /// `steps` of Nesterov-accelerated gradient descent on the class-balanced
    /// cross-entropy from the current weights.
    fn fit(&mut self, vectors: &Vectors, steps: usize) {
        let (k, d) = (self.labels, self.dim);
        if k < 2 || self.taught.is_empty() {
            return;
        }
        let mut per_class = vec![0.0f32; k];
        for r in &self.taught {
            per_class[r.label] += 1.0;
        }
        let present = per_class.iter().filter(|&&c| c > 0.0).count() as f32;
        let n = self.taught.len() as f32;
        let weight: Vec<f32> = self.taught.iter().map(|r| n / (present * per_class[r.label]) / n).collect();
        let lr = 1.0f32;
        let (mut vw, mut vb) = (vec![0.0f32; k * d], vec![0.0f32; k]);
        for _ in 0..steps {
            // Look ahead (Nesterov), take the gradient there.
            let ahead_w: Vec<f32> = self.w.iter().zip(&vw).map(|(w, v)| w + 0.9 * v).collect();
            let ahead_b: Vec<f32> = self.b.iter().zip(&vb).map(|(b, v)| b + 0.9 * v).collect();
            let mut gw: Vec<f32> = ahead_w.iter().map(|w| LAMBDA * w).collect();
            let mut gb = vec![0.0f32; k];
            for (r, &s) in self.taught.iter().zip(&weight) {
                let mut z: Vec<f32> = (0..k).map(|c| vectors.dot32(r.template, &ahead_w[c * d..(c + 1) * d]) + ahead_b[c]).collect();
                crate::head::softmax_in_place(&mut z);
                for (c, p) in z.iter().enumerate() {
                    let g = s * (p - if c == r.label { 1.0 } else { 0.0 });
                    vectors.axpy32(r.template, g, &mut gw[c * d..(c + 1) * d]);
                    gb[c] += g;
                }
            }
            for ((w, v), g) in self.w.iter_mut().zip(vw.iter_mut()).zip(&gw) {
                *v = 0.9 * *v - lr * g;
                *w += *v;
            }
            for ((b, v), g) in self.b.iter_mut().zip(vb.iter_mut()).zip(&gb) {
                *v = 0.9 * *v - lr * g;
                *b += *v;
            }
        }
    }

    /// How close a best cosine is to the taught set, 0 (no nearer than two
    /// unrelated templates) to 1 (the same).
    pub fn reach_of(&self, cos: f32) -> f32 {
        ((cos - self.floor) / (1.0 - self.floor)).clamp(0.0, 1.0)
    }

    /// The prediction for template `i`.
    pub fn predict(&self, vectors: &Vectors, i: usize) -> Prediction {
        let k = self.labels;
        if k == 0 || self.taught.is_empty() {
            return Prediction::default();
        }
        let best = &self.best[i];
        let top = best.iter().cloned().fold(-1.0f32, f32::max);
        // The vote: a sharp softmax over the labels' best cosines (labels never taught: 0).
        let mut vote: Vec<f32> = best.iter().map(|&c| if c > -1.0 { (c - top) / VOTE_T } else { f32::NEG_INFINITY }).collect();
        crate::head::softmax_in_place(&mut vote);
        let probs: Vec<f32> = if k >= 2 && self.taught.iter().any(|r| r.label != self.taught[0].label) {
            let mut z: Vec<f32> = (0..k).map(|c| vectors.dot32(i, &self.w[c * self.dim..(c + 1) * self.dim]) + self.b[c]).collect();
            crate::head::softmax_in_place(&mut z);
            z.iter().zip(&vote).map(|(a, b)| 0.5 * a + 0.5 * b).collect()
        } else {
            vote
        };
        let (label, p) = crate::head::argmax(&probs);
        let reach = self.reach_of(top);
        Prediction { confidence: p * reach, label: Some(label), reach }
    }

    /// The `n` taught rows nearest template `i`, most similar first, with their cosines.
    pub fn nearest(&self, vectors: &Vectors, i: usize, n: usize) -> Vec<(Taught, f32)> {
        let mut all: Vec<(Taught, f32)> =
            self.taught.iter().filter(|r| r.template != i).map(|r| (*r, vectors.cos(i, r.template))).collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1));
        all.dedup_by_key(|(r, _)| r.template);
        all.truncate(n);
        all
    }
}
