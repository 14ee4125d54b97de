//! The classifier head: multinomial logistic regression (softmax regression).
//!
//! Written for logsift rather than taken from `linfa-logistic`: that crate
//! trains on dense `ndarray` matrices, while the lexical encoder's features are
//! 32,768-wide and over 99% zeros. Here training keeps each row sparse when it
//! is (dense rows stay dense), so a corpus of tens of thousands of templates
//! trains in seconds in a few megabytes. The optimiser is L-BFGS on the convex,
//! smooth objective
//!
//! ```text
//! Σᵢ sᵢ · CE(softmax(W xᵢ + b), yᵢ) / Σᵢ sᵢ  +  ‖W‖² / (2 C N)
//! ```
//!
//! with `sᵢ` = row count × class weight (balanced: `N / (K · n_class)`, as
//! scikit-learn's `class_weight="balanced"`), `N` the number of lines and `C`
//! the inverse regularisation strength (scikit-learn's `C`). The bias is not
//! regularised. Training is deterministic: the same data gives the same bits,
//! whatever the number of threads (sums run in a fixed order).

use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;
use safetensors::tensor::{Dtype, TensorView};

mod basis;
use basis::Basis;

/// Feature rows for training: dense or sparse, all of one width.
pub enum Rows {
    /// Row-major `n × dim` values.
    Dense {
        /// Row width.
        dim: usize,
        /// `n * dim` values.
        data: Vec<f32>,
    },
    /// One sorted (index, value) list per row.
    Sparse {
        /// Row width.
        dim: usize,
        /// The rows.
        rows: Vec<Vec<(u32, f32)>>,
    },
}

impl Rows {
    /// Builds rows from encoder output, keeping them sparse when that pays.
    pub fn from_vectors(dim: usize, vectors: Vec<Vec<f32>>) -> Rows {
        let nnz: usize = vectors.iter().map(|v| v.iter().filter(|&&x| x != 0.0).count()).sum();
        if nnz * 4 < vectors.len() * dim {
            Rows::Sparse {
                dim,
                rows: vectors
                    .into_iter()
                    .map(|v| v.iter().enumerate().filter(|(_, &x)| x != 0.0).map(|(i, &x)| (i as u32, x)).collect())
                    .collect(),
            }
        } else {
            Rows::Dense { dim, data: vectors.concat() }
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Rows::Dense { dim, data } => data.len() / (*dim).max(1),
            Rows::Sparse { rows, .. } => rows.len(),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row width.
    pub fn dim(&self) -> usize {
        match self {
            Rows::Dense { dim, .. } | Rows::Sparse { dim, .. } => *dim,
        }
    }

    /// The rows at `idx`, in that order.
    pub fn select(&self, idx: &[usize]) -> Rows {
        match self {
            Rows::Dense { dim, data } => {
                Rows::Dense { dim: *dim, data: idx.iter().flat_map(|&i| data[i * dim..(i + 1) * dim].iter().copied()).collect() }
            }
            Rows::Sparse { dim, rows } => Rows::Sparse { dim: *dim, rows: idx.iter().map(|&i| rows[i].clone()).collect() },
        }
    }

    fn dot(&self, i: usize, w: &[f64]) -> f64 {
        match self {
            Rows::Dense { dim, data } => data[i * dim..(i + 1) * dim].iter().zip(w).map(|(&x, &w)| x as f64 * w).sum(),
            Rows::Sparse { rows, .. } => rows[i].iter().map(|&(j, x)| x as f64 * w[j as usize]).sum(),
        }
    }

    fn axpy(&self, i: usize, a: f64, g: &mut [f64]) {
        match self {
            Rows::Dense { dim, data } => data[i * dim..(i + 1) * dim].iter().zip(g).for_each(|(&x, g)| *g += a * x as f64),
            Rows::Sparse { rows, .. } => rows[i].iter().for_each(|&(j, x)| g[j as usize] += a * x as f64),
        }
    }
}

/// Training options.
#[derive(Clone, Copy, Debug)]
pub struct FitOptions {
    /// Inverse regularisation strength, as scikit-learn's `C`.
    pub c: f64,
    /// Weigh classes inversely to their frequency.
    pub balanced: bool,
    /// Iteration cap for L-BFGS.
    pub max_iter: usize,
    /// Stop when the largest gradient component falls below this.
    pub tol: f64,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions { c: 10.0, balanced: true, max_iter: 300, tol: 1e-5 }
    }
}

/// A trained head: `K` labels × `dim` weights plus a bias per label.
#[derive(Clone, Debug, PartialEq)]
pub struct SoftmaxHead {
    labels: Vec<Arc<str>>,
    dim: usize,
    weight: Vec<f32>,
    bias: Vec<f32>,
}

/// A head file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct HeadError {
    /// The file.
    pub file: String,
    /// What is wrong with it.
    pub message: String,
}

/// Parts or training data that cannot make a head.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum HeadShapeError {
    /// Fewer than two labels.
    #[error("a head needs at least 2 labels, got {0}")]
    TooFewLabels(usize),
    /// Weights or biases of the wrong length.
    #[error("shape mismatch: {labels} labels × dim {dim} needs {} weights and {labels} biases, got {weights} and {biases}", labels * dim)]
    Mismatch {
        /// Labels.
        labels: usize,
        /// Input width.
        dim: usize,
        /// Weights given.
        weights: usize,
        /// Biases given.
        biases: usize,
    },
    /// NaN or infinity in the weights.
    #[error("weights contain NaN or infinity")]
    NotFinite,
    /// No rows, or labels, counts and rows that do not line up.
    #[error("training data is empty or inconsistent")]
    BadData,
}

impl SoftmaxHead {
    /// A head from raw parts; `weight` is row-major `labels.len() × dim`.
    pub fn from_parts(labels: Vec<Arc<str>>, dim: usize, weight: Vec<f32>, bias: Vec<f32>) -> Result<Self, HeadShapeError> {
        if labels.len() < 2 {
            return Err(HeadShapeError::TooFewLabels(labels.len()));
        }
        if weight.len() != labels.len() * dim || bias.len() != labels.len() {
            return Err(HeadShapeError::Mismatch { labels: labels.len(), dim, weights: weight.len(), biases: bias.len() });
        }
        if weight.iter().chain(&bias).any(|x| !x.is_finite()) {
            return Err(HeadShapeError::NotFinite);
        }
        Ok(SoftmaxHead { labels, dim, weight, bias })
    }

    /// The labels, in weight-row order.
    pub fn labels(&self) -> &[Arc<str>] {
        &self.labels
    }

    /// Input width.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Class probabilities for one vector of width [`dim`](Self::dim).
    ///
    /// Only the non-zero features are multiplied: the lexical part of a
    /// vector is a few dozen hashed features in 32,768, and the dense product
    /// cost a template more than masking a thousand lines. The terms are
    /// added in the same order as the dense sum's and a zero term leaves a
    /// sum unchanged, so the probabilities are the same to the bit.
    pub fn predict_proba(&self, x: &[f32]) -> Vec<f32> {
        let nz: Vec<(usize, f32)> = x.iter().take(self.dim).copied().enumerate().filter(|&(_, v)| v != 0.0).collect();
        let mut z: Vec<f32> = self
            .weight
            .chunks_exact(self.dim)
            .zip(&self.bias)
            .map(|(w, b)| nz.iter().fold(-0.0f32, |acc, &(i, v)| acc + w[i] * v) + b)
            .collect();
        softmax_in_place(&mut z);
        z
    }

    /// The most probable label index and its probability.
    pub fn predict(&self, x: &[f32]) -> (usize, f32) {
        argmax(&self.predict_proba(x))
    }

    /// Trains a head on `x` with labels `y` (indices into `labels`) and
    /// per-row counts (a row may stand for many identical lines).
    pub fn fit(x: &Rows, y: &[usize], counts: &[f64], labels: Vec<Arc<str>>, opts: FitOptions) -> Result<Self, HeadShapeError> {
        let (n, d, k) = (x.len(), x.dim(), labels.len());
        if k < 2 {
            return Err(HeadShapeError::TooFewLabels(k));
        }
        if n == 0 || y.len() != n || counts.len() != n || y.iter().any(|&c| c >= k) {
            return Err(HeadShapeError::BadData);
        }
        let basis = Basis::of(x);
        let theta = solve(basis.rows().unwrap_or(x), y, counts, k, opts);
        let (weight, bias) = basis.weights(&theta, k, d);
        SoftmaxHead::from_parts(labels, d, weight, bias)
    }
}

/// The optimum of the objective (module docs) over the rows `x`: `k × width`
/// weights, row-major, then `k` biases.
fn solve(x: &Rows, y: &[usize], counts: &[f64], k: usize, opts: FitOptions) -> Vec<f64> {
    let (n, d) = (x.len(), x.dim());
    let mut class_n = vec![0.0f64; k];
    for (&c, &w) in y.iter().zip(counts) {
        class_n[c] += w;
    }
    let total: f64 = counts.iter().sum();
    let present = class_n.iter().filter(|&&c| c > 0.0).count().max(1) as f64;
    let class_w: Vec<f64> = class_n.iter().map(|&c| if opts.balanced && c > 0.0 { total / (present * c) } else { 1.0 }).collect();
    let s: Vec<f64> = y.iter().zip(counts).map(|(&c, &w)| w * class_w[c]).collect();
    let s_total: f64 = s.iter().sum();
    let lambda = 1.0 / (opts.c * total);

    let objective = |theta: &[f64], grad: &mut [f64]| -> f64 {
        let (w, b) = theta.split_at(k * d);
        // Residuals r[i][c] = s_i (p_ic - [c = y_i]) / S, and the loss.
        let per_row: Vec<(f64, Vec<f64>)> = (0..n)
            .into_par_iter()
            .map(|i| {
                let mut z: Vec<f64> = (0..k).map(|c| x.dot(i, &w[c * d..(c + 1) * d]) + b[c]).collect();
                let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let sum: f64 = z.iter().map(|v| (v - m).exp()).sum();
                let log_z = m + sum.ln();
                let loss = s[i] * (log_z - z[y[i]]) / s_total;
                for (c, v) in z.iter_mut().enumerate() {
                    *v = s[i] * ((*v - log_z).exp() - if c == y[i] { 1.0 } else { 0.0 }) / s_total;
                }
                (loss, z)
            })
            .collect();
        let loss: f64 = per_row.iter().map(|(l, _)| l).sum();
        let (gw, gb) = grad.split_at_mut(k * d);
        gw.par_chunks_mut(d).enumerate().for_each(|(c, g)| {
            for (gj, wj) in g.iter_mut().zip(&w[c * d..(c + 1) * d]) {
                *gj = lambda * wj;
            }
            for (i, (_, r)) in per_row.iter().enumerate() {
                x.axpy(i, r[c], g);
            }
        });
        for (c, g) in gb.iter_mut().enumerate() {
            *g = per_row.iter().map(|(_, r)| r[c]).sum();
        }
        loss + 0.5 * lambda * w.iter().map(|v| v * v).sum::<f64>()
    };
    lbfgs(k * d + k, objective, opts.max_iter, opts.tol)
}

impl SoftmaxHead {
    /// Writes the weights as safetensors (`weight`: K×dim, `bias`: K, f32).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let w: Vec<u8> = self.weight.iter().flat_map(|v| v.to_le_bytes()).collect();
        let b: Vec<u8> = self.bias.iter().flat_map(|v| v.to_le_bytes()).collect();
        let k = self.labels.len();
        let tensors = [
            ("weight", TensorView::new(Dtype::F32, vec![k, self.dim], &w).map_err(std::io::Error::other)?),
            ("bias", TensorView::new(Dtype::F32, vec![k], &b).map_err(std::io::Error::other)?),
        ];
        let bytes = safetensors::serialize(tensors, &None).map_err(std::io::Error::other)?;
        std::fs::write(path, bytes)
    }

    /// Reads weights written by [`save`](Self::save) for the given labels and width.
    pub fn load(path: &Path, labels: Vec<Arc<str>>, dim: usize) -> Result<Self, HeadError> {
        let bytes =
            std::fs::read(path).map_err(|e| HeadError { file: path.display().to_string(), message: format!("cannot read: {e}") })?;
        Self::from_bytes(&bytes, path, labels, dim)
    }

    /// Reads weights from the bytes of a `head.safetensors` (`path` names it in errors).
    pub fn from_bytes(bytes: &[u8], path: &Path, labels: Vec<Arc<str>>, dim: usize) -> Result<Self, HeadError> {
        let err = |message: String| HeadError { file: path.display().to_string(), message };
        let st = safetensors::SafeTensors::deserialize(bytes).map_err(|e| err(format!("not a valid safetensors file: {e}")))?;
        let read = |name: &str, shape: &[usize]| -> Result<Vec<f32>, HeadError> {
            let t = st.tensor(name).map_err(|e| err(format!("tensor '{name}': {e}")))?;
            if t.dtype() != Dtype::F32 || t.shape() != shape {
                return Err(err(format!(
                    "tensor '{name}' is {:?} {:?}, expected F32 {:?} (does model.toml belong to this head?)",
                    t.dtype(),
                    t.shape(),
                    shape
                )));
            }
            Ok(t.data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
        };
        let k = labels.len();
        let weight = read("weight", &[k, dim])?;
        let bias = read("bias", &[k])?;
        SoftmaxHead::from_parts(labels, dim, weight, bias).map_err(|e| err(e.to_string()))
    }
}

/// In-place softmax.
pub fn softmax_in_place(z: &mut [f32]) {
    let m = z.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in z.iter_mut() {
        *v = (*v - m).exp();
        sum += *v;
    }
    z.iter_mut().for_each(|v| *v /= sum);
}

/// Index and value of the largest element (the first on ties).
pub fn argmax(p: &[f32]) -> (usize, f32) {
    p.iter().enumerate().fold((0, f32::NEG_INFINITY), |best, (i, &v)| if v > best.1 { (i, v) } else { best })
}

/// A dot product in eight lanes: a single running sum is bound by the
/// latency of each addition (one in four cycles), so the two-loop recursion's
/// twenty dots over millions of weights cost more than the objective; eight
/// lanes vectorise. The lanes are added in a fixed order, so the result does
/// not depend on the machine or the number of threads.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut lanes = [0.0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            lanes[l] += x[l] * y[l];
        }
    }
    ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7])) + tail
}

/// Minimises a smooth function with L-BFGS (memory 10, Armijo backtracking).
/// Every vector is allocated once: with hundreds of labels a vector is tens
/// of megabytes, and a fresh one each iteration was a page fault a page.
fn lbfgs(n: usize, mut f: impl FnMut(&[f64], &mut [f64]) -> f64, max_iter: usize, tol: f64) -> Vec<f64> {
    const M: usize = 10;
    let mut x = vec![0.0; n];
    let mut g = vec![0.0; n];
    let mut fx = f(&x, &mut g);
    // History (s, y, 1 / s·y), oldest first; `spare` keeps dropped pairs' storage.
    let mut hist: std::collections::VecDeque<(Vec<f64>, Vec<f64>, f64)> = Default::default();
    let mut spare: Vec<(Vec<f64>, Vec<f64>)> = vec![];
    let mut x_new = vec![0.0; n];
    let mut g_new = vec![0.0; n];
    let mut d = vec![0.0; n];
    let mut alphas = Vec::with_capacity(M);
    let mut stalled = 0;
    for _ in 0..max_iter {
        if g.iter().fold(0.0f64, |m, v| m.max(v.abs())) < tol {
            break;
        }
        // Two-loop recursion: d = -H g (q held in d until the sign flip).
        d.copy_from_slice(&g);
        alphas.clear();
        for (s, y, rho) in hist.iter().rev() {
            let a = rho * dot(s, &d);
            d.iter_mut().zip(y).for_each(|(q, y)| *q -= a * y);
            alphas.push(a);
        }
        let gamma = match hist.back() {
            Some((s, y, _)) => dot(s, y) / dot(y, y),
            None => 1.0 / dot(&g, &g).sqrt().max(1e-12),
        };
        d.iter_mut().for_each(|v| *v *= gamma);
        for ((s, y, rho), a) in hist.iter().zip(alphas.iter().rev()) {
            let b = rho * dot(y, &d);
            d.iter_mut().zip(s).for_each(|(q, s)| *q += (a - b) * s);
        }
        d.iter_mut().for_each(|v| *v = -*v);
        let mut slope = dot(&g, &d);
        if slope >= 0.0 {
            // Not a descent direction: restart from steepest descent.
            spare.extend(hist.drain(..).map(|(s, y, _)| (s, y)));
            let scale = 1.0 / dot(&g, &g).sqrt().max(1e-12);
            d.iter_mut().zip(&g).for_each(|(d, v)| *d = -v * scale);
            slope = dot(&g, &d);
        }
        let mut t = 1.0;
        let mut accepted = false;
        for _ in 0..40 {
            x_new.iter_mut().zip(&x).zip(&d).for_each(|((xn, x), d)| *xn = x + t * d);
            let f_new = f(&x_new, &mut g_new);
            if f_new <= fx + 1e-4 * t * slope {
                let (mut s, mut y) = match (hist.len() == M).then(|| hist.pop_front()).flatten() {
                    Some((s, y, _)) => (s, y),
                    None => spare.pop().unwrap_or_else(|| (vec![0.0; n], vec![0.0; n])),
                };
                s.iter_mut().zip(x_new.iter().zip(&x)).for_each(|(s, (a, b))| *s = a - b);
                y.iter_mut().zip(g_new.iter().zip(&g)).for_each(|(y, (a, b))| *y = a - b);
                let sy = dot(&s, &y);
                if sy > 1e-12 {
                    hist.push_back((s, y, 1.0 / sy));
                } else {
                    spare.push((s, y));
                }
                stalled = if fx - f_new < 1e-10 * fx.abs().max(1.0) { stalled + 1 } else { 0 };
                std::mem::swap(&mut x, &mut x_new);
                std::mem::swap(&mut g, &mut g_new);
                fx = f_new;
                accepted = true;
                break;
            }
            t *= 0.5;
        }
        if !accepted || stalled >= 3 {
            break;
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(n: usize) -> Vec<Arc<str>> {
        (0..n).map(|i| Arc::from(format!("L{i}").as_str())).collect()
    }

    /// Three well separated blobs in 2-D (plus a constant feature).
    fn blobs() -> (Rows, Vec<usize>) {
        let mut data = vec![];
        let mut y = vec![];
        for (c, (cx, cy)) in [(1.0, 0.0), (-1.0, 0.5), (0.0, -1.0)].iter().enumerate() {
            for j in 0..20 {
                let e = (j as f32 - 10.0) / 50.0;
                data.extend([cx + e, cy - e, 0.3]);
                y.push(c);
            }
        }
        (Rows::Dense { dim: 3, data }, y)
    }

    #[test]
    fn the_sparse_product_gives_the_dense_sums_probabilities_to_the_bit() {
        // Weights with no pattern, a vector mostly zero (and a -0.0): the
        // product over the non-zero features only must give exactly what the
        // dense sum gives.
        let (k, dim) = (5, 3000);
        let mut seed = 0x9e37_79b9_u32;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            (seed as f32 / u32::MAX as f32) * 2.0 - 1.0
        };
        let weight: Vec<f32> = (0..k * dim).map(|_| next() * 3.0).collect();
        let bias: Vec<f32> = (0..k).map(|_| next()).collect();
        let h = SoftmaxHead { labels: labels(k), dim, weight: weight.clone(), bias: bias.clone() };
        let mut x = vec![0.0f32; dim];
        for i in (0..dim).step_by(97) {
            x[i] = next();
        }
        x[5] = -0.0;
        x[dim - 1] = 1e-30;
        let dense: Vec<f32> =
            weight.chunks_exact(dim).zip(&bias).map(|(w, b)| w.iter().zip(&x).map(|(w, x)| w * x).sum::<f32>() + b).collect();
        let mut want = dense.clone();
        softmax_in_place(&mut want);
        let got = h.predict_proba(&x);
        assert_eq!(got.iter().map(|p| p.to_bits()).collect::<Vec<_>>(), want.iter().map(|p| p.to_bits()).collect::<Vec<_>>());
        // A dense vector (no zero) too.
        let x: Vec<f32> = (0..dim).map(|_| next()).collect();
        let mut want: Vec<f32> =
            weight.chunks_exact(dim).zip(&bias).map(|(w, b)| w.iter().zip(&x).map(|(w, x)| w * x).sum::<f32>() + b).collect();
        softmax_in_place(&mut want);
        assert_eq!(h.predict_proba(&x), want);
    }

    #[test]
    fn separates_blobs_and_is_deterministic() {
        let (x, y) = blobs();
        let counts = vec![1.0; y.len()];
        let h = SoftmaxHead::fit(&x, &y, &counts, labels(3), FitOptions::default()).unwrap();
        let Rows::Dense { data, .. } = &x else { unreachable!() };
        for (i, &c) in y.iter().enumerate() {
            assert_eq!(h.predict(&data[i * 3..i * 3 + 3]).0, c);
        }
        let again = SoftmaxHead::fit(&x, &y, &counts, labels(3), FitOptions::default()).unwrap();
        assert_eq!(h, again);
        let p = h.predict_proba(&[1.0, 0.0, 0.3]);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5 && p[0] > 0.8, "{p:?}");
    }

    #[test]
    fn sparse_and_dense_training_agree() {
        let (x, y) = blobs();
        let Rows::Dense { data, .. } = &x else { unreachable!() };
        let vectors: Vec<Vec<f32>> = data.chunks(3).map(|c| c.to_vec()).collect();
        let sparse =
            Rows::Sparse { dim: 3, rows: vectors.iter().map(|v| v.iter().enumerate().map(|(i, &x)| (i as u32, x)).collect()).collect() };
        let counts = vec![1.0; y.len()];
        let a = SoftmaxHead::fit(&x, &y, &counts, labels(3), FitOptions::default()).unwrap();
        let b = SoftmaxHead::fit(&sparse, &y, &counts, labels(3), FitOptions::default()).unwrap();
        for (u, v) in a.weight.iter().zip(&b.weight) {
            assert!((u - v).abs() < 1e-4);
        }
    }

    #[test]
    fn stronger_regularisation_gives_smaller_weights() {
        let (x, y) = blobs();
        let counts = vec![1.0; y.len()];
        let strong = SoftmaxHead::fit(&x, &y, &counts, labels(3), FitOptions { c: 0.01, ..Default::default() }).unwrap();
        let weak = SoftmaxHead::fit(&x, &y, &counts, labels(3), FitOptions { c: 100.0, ..Default::default() }).unwrap();
        let norm = |h: &SoftmaxHead| h.weight.iter().map(|v| v * v).sum::<f32>();
        assert!(norm(&strong) < norm(&weak));
    }

    #[test]
    fn save_load_round_trip_and_shape_check() {
        let (x, y) = blobs();
        let h = SoftmaxHead::fit(&x, &y, &vec![1.0; y.len()], labels(3), FitOptions::default()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("head.safetensors");
        h.save(&p).unwrap();
        assert_eq!(SoftmaxHead::load(&p, labels(3), 3).unwrap(), h);
        let e = SoftmaxHead::load(&p, labels(4), 3).unwrap_err().to_string();
        assert!(e.contains("head.safetensors") && e.contains("expected F32 [4, 3]"), "{e}");
        std::fs::write(&p, b"garbage").unwrap();
        let e = SoftmaxHead::load(&p, labels(3), 3).unwrap_err().to_string();
        assert!(e.contains("not a valid safetensors"), "{e}");
    }
}
