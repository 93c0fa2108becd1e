//! Movement ops (reshape, permute, expand, pad, shrink, flip and what is built from them)
//! against `common::Ref`, and a proptest of random movement chains, copied and reduced.

mod common;

use common::prop::shape;
use common::{F32, Ref, Rng, check_bool, check_f32, check_i32, dims};
use frontend_tensor::{DType, Result, Tensor};
use proptest::prelude::*;

#[test]
fn movement_ops() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(9);
    let (a, ra) = rng.tensor(&[2, 3, 5, 1]);
    let exact = |t: Result<Tensor>, r: Ref, what: &str| {
        check_f32(
            &t.unwrap_or_else(|e| panic!("{what}: {e}")),
            &r,
            0.0,
            0.0,
            what,
        )
    };
    exact(a.reshape(&[6, 5]), ra.reshape(&[6, 5]), "reshape");
    exact(a.reshape(&[30]), ra.reshape(&[30]), "reshape flat");
    exact(
        a.reshape(&[5, 1, 6]),
        ra.reshape(&[5, 1, 6]),
        "reshape 5x1x6",
    );
    exact(
        a.permute(&[3, 2, 0, 1]),
        ra.permute(&[3, 2, 0, 1]),
        "permute",
    );
    exact(
        a.permute(&[1, 0, 2, 3]),
        ra.permute(&[1, 0, 2, 3]),
        "permute 1023",
    );
    exact(
        a.expand(&[2, 3, 5, 4]),
        ra.expand(&[2, 3, 5, 4]),
        "expand last",
    );
    exact(
        a.pad(&[(1, 0), (0, 2), (3, 1), (1, 1)]),
        ra.pad(&[(1, 0), (0, 2), (3, 1), (1, 1)]),
        "pad",
    );
    exact(
        a.shrink(&[(1, 2), (0, 3), (1, 4), (0, 1)]),
        ra.shrink(&[(1, 2), (0, 3), (1, 4), (0, 1)]),
        "shrink",
    );
    exact(a.flip(&[0, 2]), ra.flip(&[0, 2]), "flip 0,2");
    exact(a.flip(&[1]), ra.flip(&[1]), "flip 1");
    exact(a.flip(&[]), ra.clone(), "flip none");
    exact(a.transpose(1, 2), ra.permute(&[0, 2, 1, 3]), "transpose");
    exact(
        a.transpose(3, 0),
        ra.permute(&[3, 1, 2, 0]),
        "transpose 3,0",
    );
    exact(a.unsqueeze(0), ra.reshape(&[1, 2, 3, 5, 1]), "unsqueeze 0");
    exact(
        a.unsqueeze(4),
        ra.reshape(&[2, 3, 5, 1, 1]),
        "unsqueeze end",
    );
    exact(
        a.unsqueeze(2),
        ra.reshape(&[2, 3, 1, 5, 1]),
        "unsqueeze mid",
    );
    // slicing: negative indices from the end, out-of-range ends clamped, missing dims whole
    exact(
        a.slice(&[(0, 1), (-2, 100)]),
        ra.shrink(&[(0, 1), (1, 3), (0, 5), (0, 1)]),
        "slice",
    );
    exact(
        a.slice(&[(-100, 2), (0, 3), (2, -1)]),
        ra.shrink(&[(0, 2), (0, 3), (2, 4), (0, 1)]),
        "slice negative end",
    );
    let (b, rb) = rng.tensor(&[13, 1]);
    exact(
        b.broadcast_to(&[2, 13, 5]),
        rb.broadcast_to(&[2, 13, 5]),
        "broadcast_to",
    );
    exact(b.broadcast_to(&[13, 1]), rb.clone(), "broadcast_to same");
    // movement of i32 and of bool data
    let (i, ri) = rng.tensor_i32(&[3, 1, 4], 9);
    check_i32(
        &i.permute(&[2, 0, 1])
            .unwrap()
            .pad(&[(1, 1), (0, 0), (0, 2)])
            .unwrap()
            .flip(&[0])
            .unwrap(),
        &ri.permute(&[2, 0, 1])
            .pad(&[(1, 1), (0, 0), (0, 2)])
            .flip(&[0]),
        "i32 permute pad flip",
    );
    let c = i.gt(&Tensor::zeros(&[1], DType::I32).unwrap()).unwrap();
    let rc = ri.map(|v| f64::from(u8::from(v > 0.0)));
    check_bool(
        &c.pad(&[(0, 1), (2, 0), (0, 0)])
            .unwrap()
            .flip(&[2])
            .unwrap(),
        &rc.pad(&[(0, 1), (2, 0), (0, 0)]).flip(&[2]),
        "bool pad",
    );
}

proptest! {
    #![proptest_config(common::prop::config())]

    #[test]
    fn prop_movement_chain(
        shape in shape(),
        len in 1..=5usize,
        seed in any::<u64>(),
    ) {
        if !common::cpu() {
            return Ok(());
        }
        let mut rng = Rng::new(seed);
        let chain = random_chain(&mut rng, &shape, len);
        let (a, ra) = rng.tensor(&shape);
        let what = format!("{shape:?} then {chain:?} (seed {seed})");
        let (mut t, mut r) = (a, ra);
        for m in &chain {
            t = m.apply(&t).unwrap_or_else(|e| panic!("{what}: {m:?}: {e}"));
            r = m.apply_ref(&r);
        }
        // the chain alone (a copy kernel), and reductions through it: a sum over the
        // first axis and a max over a random set of axes, realized together
        let rank = r.shape.len();
        let ax: Vec<usize> = (0..rank).filter(|_| rng.range(0, 2) == 0).collect();
        let axes: Vec<isize> = ax.iter().map(|&d| d as isize).collect();
        let n = r.shape[0] as f64;
        let outs = [
            (t.clone(), r.clone(), (0.0, 0.0), what.clone()),
            (
                t.sum(&[0], false).unwrap(),
                r.sum(&[0], false),
                (F32, 2e-6 * n),
                format!("sum(0) of {what}"),
            ),
            (
                t.max(&axes, true).unwrap(),
                r.max(&ax, true),
                (0.0, 0.0),
                format!("max({ax:?}) of {what}"),
            ),
        ];
        Tensor::realize_all(&outs.iter().map(|o| &o.0).collect::<Vec<_>>()).unwrap();
        for (t, r, (rtol, atol), what) in &outs {
            check_f32(t, r, *rtol, *atol, what);
        }
    }
}

/// One movement op, on a Tensor or on a Ref.
#[derive(Clone, Debug)]
enum Mv {
    Reshape(Vec<usize>),
    Permute(Vec<usize>),
    Expand(Vec<usize>),
    Pad(Vec<(usize, usize)>),
    Shrink(Vec<(usize, usize)>),
    Flip(Vec<usize>),
}

impl Mv {
    fn apply(&self, t: &Tensor) -> Result<Tensor> {
        match self {
            Mv::Reshape(s) => t.reshape(&dims(s)),
            Mv::Permute(p) => t.permute(p),
            Mv::Expand(s) => t.expand(&dims(s)),
            Mv::Pad(p) => {
                let p: Vec<(i64, i64)> = p.iter().map(|&(b, a)| (b as i64, a as i64)).collect();
                t.pad(&p)
            }
            Mv::Shrink(r) => {
                let r: Vec<(i64, i64)> = r.iter().map(|&(b, e)| (b as i64, e as i64)).collect();
                t.shrink(&r)
            }
            Mv::Flip(a) => t.flip(a),
        }
    }

    fn apply_ref(&self, r: &Ref) -> Ref {
        match self {
            Mv::Reshape(s) => r.reshape(s),
            Mv::Permute(p) => r.permute(p),
            Mv::Expand(s) => r.expand(s),
            Mv::Pad(p) => r.pad(p),
            Mv::Shrink(s) => r.shrink(s),
            Mv::Flip(a) => r.flip(a),
        }
    }

    fn out_shape(&self, shape: &[usize]) -> Vec<usize> {
        match self {
            Mv::Reshape(s) | Mv::Expand(s) => s.clone(),
            Mv::Permute(p) => p.iter().map(|&a| shape[a]).collect(),
            Mv::Pad(p) => shape.iter().zip(p).map(|(s, (b, a))| s + b + a).collect(),
            Mv::Shrink(r) => r.iter().map(|(b, e)| e - b).collect(),
            Mv::Flip(_) => shape.to_vec(),
        }
    }
}

/// `len` valid movement ops starting from `shape`, kept under 4096 elements.
fn random_chain(rng: &mut Rng, shape: &[usize], len: usize) -> Vec<Mv> {
    let mut shape = shape.to_vec();
    let mut chain = Vec::new();
    while chain.len() < len {
        let rank = shape.len();
        let numel: usize = shape.iter().product();
        let m = match rng.range(0, 6) {
            0 => Mv::Reshape(random_reshape(rng, &shape)),
            1 => {
                let mut p: Vec<usize> = (0..rank).collect();
                for i in (1..rank).rev() {
                    p.swap(i, rng.range(0, i as i64 + 1) as usize);
                }
                Mv::Permute(p)
            }
            2 if numel <= 512 => {
                if !shape.contains(&1) {
                    // make a size-1 dim to grow
                    let mut s = shape.clone();
                    s.insert(rng.range(0, rank as i64 + 1) as usize, 1);
                    chain.push(Mv::Reshape(s.clone()));
                    shape = s;
                }
                let grown: Vec<usize> = shape
                    .iter()
                    .map(|&d| {
                        if d == 1 && rng.range(0, 2) == 0 {
                            rng.range(2, 5) as usize
                        } else {
                            d
                        }
                    })
                    .collect();
                Mv::Expand(grown)
            }
            3 if numel <= 512 => Mv::Pad(
                (0..rank)
                    .map(|_| (rng.range(0, 3) as usize, rng.range(0, 3) as usize))
                    .collect(),
            ),
            5 => Mv::Flip((0..rank).filter(|_| rng.range(0, 2) == 0).collect()),
            _ => Mv::Shrink(
                shape
                    .iter()
                    .map(|&d| {
                        let b = rng.range(0, d as i64) as usize;
                        (b, rng.range(b as i64 + 1, d as i64 + 1) as usize)
                    })
                    .collect(),
            ),
        };
        shape = m.out_shape(&shape);
        chain.push(m);
    }
    chain
}

/// A reshape of `shape`: merge two neighbours, split a dim, or add/remove a size-1 dim.
fn random_reshape(rng: &mut Rng, shape: &[usize]) -> Vec<usize> {
    let mut s = shape.to_vec();
    match rng.range(0, 3) {
        0 if s.len() >= 2 => {
            let i = rng.range(0, s.len() as i64 - 1) as usize;
            let d = s.remove(i + 1);
            s[i] *= d;
        }
        1 => {
            let i = rng.range(0, s.len() as i64) as usize;
            let d = s[i];
            if let Some(f) = (2..d).find(|f| d.is_multiple_of(*f)) {
                s[i] = f;
                s.insert(i + 1, d / f);
            } else {
                s.insert(i, 1);
            }
        }
        _ => {
            if let Some(i) = s.iter().position(|&d| d == 1).filter(|_| s.len() > 1) {
                s.remove(i);
            } else {
                s.insert(rng.range(0, s.len() as i64 + 1) as usize, 1);
            }
        }
    }
    s
}
