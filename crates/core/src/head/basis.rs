//! The coordinates the head is fitted in.
//!
//! The objective only sees the weights through `W xᵢ` and `‖W‖²`, so two
//! exact changes of coordinates shrink it without changing its optimum:
//!
//! * **Used columns.** A feature no row uses keeps a zero weight (its gradient
//!   is the penalty's alone, zero from a zero start). Hashed lexical features
//!   use a few thousand of 32,768 buckets, so the optimiser works on those
//!   only: the same bits as over every column.
//! * **The rows' span.** From a zero start every gradient lies in the span of
//!   the rows, and so does the optimum (the penalty pulls everything else to
//!   zero). With `Q` an orthonormal basis of that span, `W = B Qᵀ` keeps
//!   `W xᵢ = B (Qᵀ xᵢ)` and `‖W‖ = ‖B‖`: the same problem over `r ≤ n`
//!   features per label, the rows' coordinates `zᵢ = Qᵀ xᵢ`. L-BFGS is
//!   unchanged by such a rotation, so it takes the same steps (up to
//!   rounding) over vectors `r / d` the size. It pays when there are few
//!   distinct templates and many labels: 380 labels over 380 templates were
//!   380 × 10,314 weights (31 MB a vector, the optimiser's 22 passes over
//!   its history bound by memory), and are 380 × 380.
//!
//! The basis comes from a pivoted Cholesky factorisation of the rows' Gram
//! matrix `K = X Xᵀ ≈ L Lᵀ`: the pivot rows `X_P` span the rows (to a
//! relative 1e-10 of the largest squared norm), `Qᵀ = L_P⁻¹ X_P` is
//! orthonormal and `X Q = L`, so `zᵢ` is row `i` of `L`, and the weights come
//! back as `W = (B L_P⁻¹) X_P`.

use rayon::prelude::*;

use super::{dot, Rows};

/// How the rows given to `fit` map to the rows the optimiser sees.
pub(super) enum Basis {
    /// As they are.
    Full,
    /// Sparse rows renumbered onto their used columns (ascending).
    Columns { rows: Rows, used: Vec<u32> },
    /// The rows' coordinates in an orthonormal basis of their span.
    Span(Span),
}

/// A basis of the rows' span (module docs).
pub(super) struct Span {
    /// `n × r`: row `i` of `L`, the coordinates of row `i`.
    z: Rows,
    /// `r × r`, row-major: `L_P`, lower triangular.
    lp: Vec<f64>,
    /// The pivot rows `X_P`, in pivot order.
    pivots: Vec<Vec<(u32, f32)>>,
}

impl Basis {
    /// The cheaper coordinates for `x`. Per L-BFGS iteration (and label) the
    /// objective costs about `2 n w` for rows of `w` non-zeros and the
    /// two-loop recursion about `120 d` (40 passes over `d` weights, bound by
    /// memory); in the span, `2 n r + 120 r` with `r ≤ n`, after a one-time
    /// `n² w / 2 + n r² / 2`.
    pub(super) fn of(x: &Rows) -> Basis {
        let Rows::Sparse { dim, rows } = x else { return Basis::Full };
        let used = used(rows, *dim);
        let n = rows.len();
        let w = rows.iter().map(Vec::len).sum::<usize>() / n.max(1);
        if n <= 3000 && 2 * n * n + 120 * n < 2 * n * w + 120 * used.len() {
            if let Some(span) = Span::of(rows, *dim) {
                return Basis::Span(span);
            }
        }
        if used.len() == *dim {
            return Basis::Full;
        }
        Basis::columns(rows, *dim, used)
    }

    /// Rows renumbered onto the `used` columns.
    fn columns(rows: &[Vec<(u32, f32)>], dim: usize, used: Vec<u32>) -> Basis {
        let mut at = vec![0u32; dim];
        used.iter().enumerate().for_each(|(i, &j)| at[j as usize] = i as u32);
        let rows = rows.iter().map(|r| r.iter().map(|&(j, x)| (at[j as usize], x)).collect()).collect();
        Basis::Columns { rows: Rows::Sparse { dim: used.len(), rows }, used }
    }

    /// The rows to optimise over, when not the given ones.
    pub(super) fn rows(&self) -> Option<&Rows> {
        match self {
            Basis::Full => None,
            Basis::Columns { rows, .. } => Some(rows),
            Basis::Span(s) => Some(&s.z),
        }
    }

    /// The head's `k × d` weights and `k` biases from the optimiser's
    /// `theta` (`k × width` weights, then the biases).
    pub(super) fn weights(&self, theta: &[f64], k: usize, d: usize) -> (Vec<f32>, Vec<f32>) {
        let width = (theta.len() - k) / k;
        let (w, b) = theta.split_at(k * width);
        let bias = b.iter().map(|&v| v as f32).collect();
        let weight = match self {
            Basis::Full => w.iter().map(|&v| v as f32).collect(),
            Basis::Columns { used, .. } => {
                let mut full = vec![0.0f32; k * d];
                for (c, w) in w.chunks_exact(width).enumerate() {
                    used.iter().zip(w).for_each(|(&j, &v)| full[c * d + j as usize] = v as f32);
                }
                full
            }
            Basis::Span(s) => s.weights(w, k, d),
        };
        (weight, bias)
    }
}

/// The columns some row uses, ascending.
fn used(rows: &[Vec<(u32, f32)>], dim: usize) -> Vec<u32> {
    let mut seen = vec![false; dim];
    rows.iter().flatten().for_each(|&(j, _)| seen[j as usize] = true);
    (0..dim as u32).filter(|&j| seen[j as usize]).collect()
}

impl Span {
    /// The basis of `rows`' span, or `None` when every row is zero.
    fn of(rows: &[Vec<(u32, f32)>], dim: usize) -> Option<Span> {
        let n = rows.len();
        // The Gram matrix, lower triangle, a row per task.
        let mut gram = vec![0.0f64; n * n];
        gram.par_chunks_mut(n).enumerate().for_each_init(
            || vec![0.0f64; dim],
            |dense, (i, out)| {
                rows[i].iter().for_each(|&(j, v)| dense[j as usize] = v as f64);
                for (o, r) in out[..=i].iter_mut().zip(rows) {
                    *o = r.iter().map(|&(j, v)| v as f64 * dense[j as usize]).sum();
                }
                rows[i].iter().for_each(|&(j, _)| dense[j as usize] = 0.0);
            },
        );
        let at = |i: usize, j: usize| if j <= i { gram[i * n + j] } else { gram[j * n + i] };
        // Pivoted Cholesky: `l` is n × n row-major, its first `r` columns used.
        let mut rest: Vec<f64> = (0..n).map(|i| at(i, i)).collect();
        let tol = 1e-10 * rest.iter().cloned().fold(0.0, f64::max);
        let mut l = vec![0.0f64; n * n];
        let mut done = vec![false; n];
        let mut order: Vec<usize> = vec![];
        while order.len() < n {
            let p = (0..n).filter(|&i| !done[i]).fold(None, |best: Option<usize>, i| match best {
                Some(b) if rest[b] >= rest[i] => Some(b),
                _ => Some(i),
            })?;
            if rest[p] <= tol {
                break;
            }
            let (m, piv) = (order.len(), rest[p].sqrt());
            let lp_row: Vec<f64> = l[p * n..p * n + m].to_vec();
            let column: Vec<(usize, f64)> = (0..n)
                .into_par_iter()
                .filter(|&i| !done[i] && i != p)
                .map(|i| (i, (at(i, p) - dot(&l[i * n..i * n + m], &lp_row)) / piv))
                .collect();
            for (i, v) in column {
                l[i * n + m] = v;
                rest[i] -= v * v;
            }
            l[p * n + m] = piv;
            done[p] = true;
            order.push(p);
        }
        let r = order.len();
        if r == 0 {
            return None;
        }
        let z = Rows::Dense { dim: r, data: (0..n).flat_map(|i| l[i * n..i * n + r].iter().map(|&v| v as f32)).collect::<Vec<_>>() };
        let lp = order.iter().flat_map(|&p| l[p * n..p * n + r].iter().copied()).collect();
        let pivots = order.iter().map(|&p| rows[p].clone()).collect();
        Some(Span { z, lp, pivots })
    }

    /// `W = (B L_P⁻¹) X_P`, a label at a time: `m L_P = b` by back
    /// substitution, then the pivot rows weighted by `m`.
    fn weights(&self, w: &[f64], k: usize, d: usize) -> Vec<f32> {
        let r = self.pivots.len();
        let mut full = vec![0.0f32; k * d];
        full.par_chunks_mut(d).zip(w.par_chunks(r)).for_each(|(out, b)| {
            let mut m = vec![0.0f64; r];
            for a in (0..r).rev() {
                let later: f64 = (a + 1..r).map(|c| m[c] * self.lp[c * r + a]).sum();
                m[a] = (b[a] - later) / self.lp[a * r + a];
            }
            let mut acc = vec![0.0f64; d];
            for (row, &ma) in self.pivots.iter().zip(&m) {
                row.iter().for_each(|&(j, v)| acc[j as usize] += ma * v as f64);
            }
            out.iter_mut().zip(&acc).for_each(|(o, &a)| *o = a as f32);
        });
        full
    }
}

#[cfg(test)]
mod tests {
    use super::super::{FitOptions, SoftmaxHead};
    use super::*;
    use std::sync::Arc;

    /// Sparse rows of a few hundred features from a few words each, some rows
    /// repeated under another label (so the Gram matrix is singular).
    fn rows(n: usize, dim: usize) -> (Rows, Vec<usize>) {
        let mut seed = 0x2545_f491_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut out: Vec<Vec<(u32, f32)>> = vec![];
        let mut y = vec![];
        for i in 0..n {
            if i % 7 == 6 {
                out.push(out[i - 1].clone());
                y.push((y[i - 1] + 1) % 5);
                continue;
            }
            let c = i % 5;
            let mut r: Vec<(u32, f32)> = (0..12).map(|_| ((next() % dim as u64) as u32, 0.2)).collect();
            r.push((c as u32 * 3, 0.5));
            r.sort_by_key(|e| e.0);
            r.dedup_by_key(|e| e.0);
            out.push(r);
            y.push(c);
        }
        (Rows::Sparse { dim, rows: out }, y)
    }

    #[test]
    fn the_span_is_chosen_for_few_rows_and_finds_the_same_head() {
        let (x, y) = rows(60, 4000);
        assert!(matches!(Basis::of(&x), Basis::Span(_)), "60 rows of 4,000 columns: the span");
        let labels: Vec<Arc<str>> = (0..5).map(|i| Arc::from(format!("L{i}"))).collect();
        let counts: Vec<f64> = (0..60).map(|i| 1.0 + (i % 3) as f64).collect();
        let opts = FitOptions { tol: 1e-9, max_iter: 2000, ..FitOptions::default() };
        let span = SoftmaxHead::fit(&x, &y, &counts, labels.clone(), opts).unwrap();
        // The same problem over the used columns only.
        let Rows::Sparse { rows, .. } = &x else { unreachable!() };
        let basis = Basis::columns(rows, 4000, used(rows, 4000));
        let theta = super::super::solve(basis.rows().unwrap(), &y, &counts, 5, opts);
        let (weight, bias) = basis.weights(&theta, 5, 4000);
        let columns = SoftmaxHead::from_parts(labels, 4000, weight, bias).unwrap();
        let mut worst = 0.0f32;
        for r in rows {
            let mut v = vec![0.0f32; 4000];
            r.iter().for_each(|&(j, x)| v[j as usize] = x);
            let (a, b) = (span.predict_proba(&v), columns.predict_proba(&v));
            worst = a.iter().zip(&b).fold(worst, |m, (a, b)| m.max((a - b).abs()));
        }
        assert!(worst < 1e-3, "probabilities differ by up to {worst}");
        // Weights off the rows' span are zero, as the optimum's are.
        let unused = (0..4000).find(|j| !rows.iter().flatten().any(|e| e.0 as usize == *j)).unwrap();
        assert_eq!(span.weight[unused], 0.0);
    }

    #[test]
    fn many_rows_of_few_columns_keep_the_columns() {
        let (x, _) = rows(3500, 40_000);
        assert!(matches!(Basis::of(&x), Basis::Columns { .. }));
        let (x, _) = rows(200, 50);
        assert!(matches!(Basis::of(&x), Basis::Full), "every column used");
    }
}
