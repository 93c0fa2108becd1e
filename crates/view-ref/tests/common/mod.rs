//! Test support: a naive materialized tensor of buffer offsets, the movement ops applied
//! to it by plain index loops, and random op chains applied to both it and a `ViewStack`.

#![allow(dead_code)]

use view_ref::{Result, ViewStack};

/// Every point of `shape` in row-major order.
pub fn points(shape: &[i64]) -> Vec<Vec<i64>> {
    let mut out = vec![vec![]];
    for &dim in shape {
        out = out
            .into_iter()
            .flat_map(|p| {
                (0..dim).map(move |x| {
                    let mut q = p.clone();
                    q.push(x);
                    q
                })
            })
            .collect();
    }
    out
}

fn flat(shape: &[i64], point: &[i64]) -> usize {
    let f = shape
        .iter()
        .zip(point)
        .fold(0, |acc, (&dim, &x)| acc * dim + x);
    usize::try_from(f).expect("in range")
}

/// A tensor holding, at each point, the buffer offset it reads (`None`: padding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Naive {
    pub shape: Vec<i64>,
    pub data: Vec<Option<i64>>,
}

impl Naive {
    pub fn arange(shape: &[i64]) -> Naive {
        let n: i64 = shape.iter().product();
        Naive {
            shape: shape.to_vec(),
            data: (0..n).map(Some).collect(),
        }
    }

    /// The tensor of `shape` whose point `y` holds this tensor at `source(y)`.
    fn gather(&self, shape: &[i64], source: impl Fn(&[i64]) -> Option<Vec<i64>>) -> Naive {
        let data = points(shape)
            .iter()
            .map(|y| source(y).and_then(|x| self.data[flat(&self.shape, &x)]))
            .collect();
        Naive {
            shape: shape.to_vec(),
            data,
        }
    }

    pub fn pad(&self, arg: &[(i64, i64)]) -> Naive {
        let shape: Vec<i64> = self
            .shape
            .iter()
            .zip(arg)
            .map(|(s, (b, a))| s + b + a)
            .collect();
        self.gather(&shape, |y| {
            let x: Vec<i64> = y.iter().zip(arg).map(|(y, (b, _))| y - b).collect();
            x.iter()
                .zip(&self.shape)
                .all(|(&x, &s)| (0..s).contains(&x))
                .then_some(x)
        })
    }

    pub fn shrink(&self, arg: &[(i64, i64)]) -> Naive {
        let shape: Vec<i64> = arg.iter().map(|(b, e)| e - b).collect();
        self.gather(&shape, |y| {
            Some(y.iter().zip(arg).map(|(y, (b, _))| y + b).collect())
        })
    }

    pub fn expand(&self, new_shape: &[i64]) -> Naive {
        self.gather(new_shape, |y| {
            Some(
                y.iter()
                    .zip(&self.shape)
                    .map(|(&y, &s)| if s == 1 { 0 } else { y })
                    .collect(),
            )
        })
    }

    pub fn permute(&self, axes: &[usize]) -> Naive {
        let shape: Vec<i64> = axes.iter().map(|&a| self.shape[a]).collect();
        self.gather(&shape, |y| {
            let mut x = vec![0; y.len()];
            for (i, &a) in axes.iter().enumerate() {
                x[a] = y[i];
            }
            Some(x)
        })
    }

    pub fn flip(&self, arg: &[bool]) -> Naive {
        self.gather(&self.shape, |y| {
            Some(
                y.iter()
                    .zip(&self.shape)
                    .zip(arg)
                    .map(|((&y, &s), &f)| if f { s - 1 - y } else { y })
                    .collect(),
            )
        })
    }

    pub fn reshape(&self, new_shape: &[i64]) -> Naive {
        Naive {
            shape: new_shape.to_vec(),
            data: self.data.clone(),
        }
    }
}

/// Checks `stack` against `naive` at every point; the message names the first mismatch.
pub fn check(stack: &ViewStack, naive: &Naive) -> std::result::Result<(), String> {
    if stack.shape() != naive.shape.as_slice() {
        return Err(format!("shape {:?} != {:?}", stack.shape(), naive.shape));
    }
    for (p, want) in points(&naive.shape).iter().zip(&naive.data) {
        let got = stack.index_at(p);
        if got != *want {
            return Err(format!("at {p:?}: got {got:?}, want {want:?} in {stack:?}"));
        }
    }
    Ok(())
}

/// One movement op with concrete arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Pad(Vec<(i64, i64)>),
    Shrink(Vec<(i64, i64)>),
    Expand(Vec<i64>),
    Permute(Vec<usize>),
    Flip(Vec<bool>),
    Reshape(Vec<i64>),
}

impl Op {
    pub fn on_stack(&self, st: &ViewStack) -> Result<ViewStack> {
        match self {
            Op::Pad(a) => st.pad(a),
            Op::Shrink(a) => st.shrink(a),
            Op::Expand(a) => st.expand(a),
            Op::Permute(a) => st.permute(a),
            Op::Flip(a) => st.flip(a),
            Op::Reshape(a) => st.reshape(a),
        }
    }

    pub fn on_naive(&self, n: &Naive) -> Naive {
        match self {
            Op::Pad(a) => n.pad(a),
            Op::Shrink(a) => n.shrink(a),
            Op::Expand(a) => n.expand(a),
            Op::Permute(a) => n.permute(a),
            Op::Flip(a) => n.flip(a),
            Op::Reshape(a) => n.reshape(a),
        }
    }
}

/// splitmix64: the argument source for random ops.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: i64) -> i64 {
        i64::try_from(self.next() % u64::try_from(n).expect("positive")).expect("fits")
    }

    pub fn coin(&mut self) -> bool {
        self.next() & 1 == 1
    }
}

/// Largest element count a random op may produce.
pub const MAX_ELEMENTS: i64 = 2048;

fn prime_factors(mut n: i64) -> Vec<i64> {
    let mut out = vec![];
    let mut p = 2;
    while p * p <= n {
        while n % p == 0 {
            out.push(p);
            n /= p;
        }
        p += 1;
    }
    if n > 1 {
        out.push(n);
    }
    out
}

/// A random reshape of `shape`: merge two neighbours, split one axis, insert or drop
/// unit axes, or refactor the element count at random.
fn random_reshape(shape: &[i64], rng: &mut Rng) -> Vec<i64> {
    let mut s = shape.to_vec();
    match rng.below(4) {
        0 if s.len() >= 2 => {
            let k = usize::try_from(rng.below(i64::try_from(s.len() - 1).expect("small")))
                .expect("index");
            let merged = s[k] * s[k + 1];
            s.splice(k..=k + 1, [merged]);
        }
        1 => {
            let k =
                usize::try_from(rng.below(i64::try_from(s.len()).expect("small"))).expect("index");
            let fs = prime_factors(s[k]);
            let cut = usize::try_from(rng.below(i64::try_from(fs.len() + 1).expect("small")))
                .expect("index");
            let (a, b): (i64, i64) = (fs[..cut].iter().product(), fs[cut..].iter().product());
            s.splice(k..=k, [a, b]);
        }
        2 => {
            if rng.coin() && s.len() > 1 && s.contains(&1) {
                let k = s.iter().position(|&d| d == 1).expect("has a unit axis");
                s.remove(k);
            } else if s.len() < 5 {
                let k = usize::try_from(rng.below(i64::try_from(s.len() + 1).expect("small")))
                    .expect("index");
                s.insert(k, 1);
            }
        }
        _ => {
            let mut fs = prime_factors(shape.iter().product());
            let rank = 1 + rng.below(4);
            s = vec![1; usize::try_from(rank).expect("small")];
            while !fs.is_empty() {
                let f = fs.swap_remove(
                    usize::try_from(rng.below(i64::try_from(fs.len()).expect("small")))
                        .expect("index"),
                );
                let k = usize::try_from(rng.below(rank)).expect("index");
                s[k] *= f;
            }
        }
    }
    s
}

/// A random valid op on `shape`, drawn from `kind` (0..6) and `rng`; `None` when it
/// would exceed [`MAX_ELEMENTS`].
pub fn random_op(shape: &[i64], kind: u8, rng: &mut Rng) -> Option<Op> {
    let count: i64 = shape.iter().product();
    let op = match kind % 6 {
        0 => Op::Pad(shape.iter().map(|_| (rng.below(3), rng.below(3))).collect()),
        1 => Op::Shrink(
            shape
                .iter()
                .map(|&d| {
                    let b = rng.below(d);
                    (b, b + 1 + rng.below(d - b))
                })
                .collect(),
        ),
        2 if shape.contains(&1) => Op::Expand(
            shape
                .iter()
                .map(|&d| {
                    if d == 1 && rng.coin() {
                        2 + rng.below(3)
                    } else {
                        d
                    }
                })
                .collect(),
        ),
        2 => {
            let mut s = shape.to_vec();
            let k = usize::try_from(rng.below(i64::try_from(s.len() + 1).expect("small")))
                .expect("index");
            s.insert(k, 1);
            Op::Reshape(s)
        }
        3 => {
            let mut axes: Vec<usize> = (0..shape.len()).collect();
            for i in (1..axes.len()).rev() {
                let j = usize::try_from(rng.below(i64::try_from(i + 1).expect("small")))
                    .expect("index");
                axes.swap(i, j);
            }
            Op::Permute(axes)
        }
        4 => Op::Flip(shape.iter().map(|_| rng.coin()).collect()),
        _ => Op::Reshape(random_reshape(shape, rng)),
    };
    let new_count: i64 = match &op {
        Op::Pad(a) => shape.iter().zip(a).map(|(s, (b, e))| s + b + e).product(),
        Op::Expand(a) => a.iter().product(),
        _ => count,
    };
    (new_count <= MAX_ELEMENTS).then_some(op)
}
