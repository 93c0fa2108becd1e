//! The schedule cache: a graph of the same structure as one scheduled before (ops, dtypes,
//! shapes, args and constants; buffers by position, dtype and size) is not scheduled
//! again, and what runs from the cache is what a fresh schedule runs: for programs of
//! every kind (elementwise, reductions, a split sum, softmax, matmul, movement ops, cat,
//! assign, a written assign read again, a gradient), the results from the cache equal,
//! bit for bit, those of a fresh schedule on the same data. Its own test binary: the cache
//! is process-wide, and these tests take turns with it (`CACHE_LOCK`).

mod common;

use std::sync::Mutex;

use frontend_tensor::Tensor;

static CACHE_LOCK: Mutex<()> = Mutex::new(());

fn lock() -> std::sync::MutexGuard<'static, ()> {
    CACHE_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn tensor(data: &[f32], shape: &[i64]) -> Tensor {
    Tensor::from_slice(data, shape).expect("tensor")
}

#[test]
fn a_repeated_graph_is_not_scheduled_again() {
    if !common::cpu() {
        return;
    }
    let _turn = lock();
    let f = |a: &Tensor, b: &Tensor, k: f64| a.mul(b).and_then(|c| c.add_scalar(k)).expect("f");
    let data: Vec<f32> = (0..37).map(|i| i as f32 * 0.5).collect();
    let (a, b) = (tensor(&data, &[37]), tensor(&data, &[37]));
    Tensor::realize_all_stats(&[&f(&a, &b, 1.0)]).expect("first");
    let before = engine::schedule_cache_stats();
    // other buffers of the same kind
    let (c, d) = (tensor(&data, &[37]), tensor(&data, &[37]));
    let y = f(&c, &d, 1.0);
    let stats = Tensor::realize_all_stats(&[&y]).expect("again");
    assert!(stats.schedule_cached, "{stats:?}");
    let after = engine::schedule_cache_stats();
    assert_eq!((after.hits, after.misses), (before.hits + 1, before.misses));
    let want: Vec<f32> = data.iter().map(|v| v * v + 1.0).collect();
    assert_eq!(y.to_vec::<f32>().expect("y"), want);
    // the same buffer twice, another constant, another size: other structures
    for (what, y) in [
        ("a buffer used twice", f(&c, &c, 1.0)),
        ("a constant", f(&c, &d, 2.0)),
        (
            "a size",
            f(
                &tensor(&data[..36], &[36]),
                &tensor(&data[..36], &[36]),
                1.0,
            ),
        ),
    ] {
        let stats = Tensor::realize_all_stats(&[&y]).expect(what);
        assert!(!stats.schedule_cached, "{what}: {stats:?}");
    }
}

/// A program over inputs, giving the tensors to realize.
type Program = fn(&[Tensor]) -> frontend_tensor::Result<Vec<Tensor>>;

fn programs() -> Vec<(&'static str, Vec<Vec<i64>>, Program)> {
    vec![
        ("elementwise", vec![vec![5, 7], vec![7]], |x| {
            Ok(vec![x[0].mul(&x[1])?.exp()?.sub(&x[0])?])
        }),
        ("reductions", vec![vec![6, 9]], |x| {
            Ok(vec![x[0].sum(&[1], false)?, x[0].max(&[0], true)?])
        }),
        ("split sum", vec![vec![1 << 16]], |x| {
            Ok(vec![x[0].sum(&[], false)?])
        }),
        ("softmax", vec![vec![4, 33]], |x| {
            Ok(vec![x[0].softmax(-1)?])
        }),
        ("matmul", vec![vec![9, 13], vec![13, 6]], |x| {
            Ok(vec![x[0].matmul(&x[1])?.relu()?])
        }),
        ("movement", vec![vec![4, 6]], |x| {
            let t = x[0].permute(&[1, 0])?.flip(&[0])?;
            Ok(vec![t.pad(&[(1, 2), (0, 1)])?.contiguous()])
        }),
        ("cat", vec![vec![3, 5], vec![2, 5]], |x| {
            Ok(vec![Tensor::cat(&[&x[0], &x[1]], 0)?.mul_scalar(3.0)?])
        }),
        ("assign", vec![vec![8], vec![8]], |x| {
            let p = x[0].clone();
            Ok(vec![p.assign(&p.mul_scalar(2.0)?.add(&x[1])?)?])
        }),
        ("assign read after its write", vec![vec![8]], |x| {
            let a = x[0].clone();
            let y = a.assign(&a.add_scalar(1.0)?)?.mul_scalar(2.0)?;
            a.realize()?;
            Ok(vec![y])
        }),
        ("gradient", vec![vec![4, 3], vec![3, 2]], |x| {
            let w = x[1].requires_grad_(true)?;
            let loss = x[0].matmul(&w)?.tanh()?.sum(&[], false)?;
            let g = loss.gradient(&[&w])?;
            Ok(vec![loss, g[0].clone()])
        }),
    ]
}

/// Fresh inputs of these shapes, the same data every time.
fn inputs(shapes: &[Vec<i64>]) -> Vec<Tensor> {
    let mut rng = common::Rng::new(7);
    shapes
        .iter()
        .map(|s| {
            let n = s.iter().product::<i64>() as usize;
            Tensor::from_slice(&rng.uniform(n, -1.0, 1.0), s).expect("input")
        })
        .collect()
}

/// Realizes `program` on fresh inputs; the values and whether the schedule was cached.
fn run(program: Program, shapes: &[Vec<i64>]) -> (Vec<Vec<u8>>, bool) {
    let outs = program(&inputs(shapes)).expect("program");
    let refs: Vec<&Tensor> = outs.iter().collect();
    let stats = Tensor::realize_all_stats(&refs).expect("realize");
    let values = outs.iter().map(|t| t.to_bytes().expect("read")).collect();
    (values, stats.schedule_cached)
}

#[test]
fn cached_schedules_compute_what_fresh_ones_do() {
    if !common::cpu() {
        return;
    }
    let _turn = lock();
    for (name, shapes, program) in programs() {
        engine::clear_schedule_cache();
        let (fresh, cached) = run(program, &shapes);
        assert!(!cached, "{name}: the cache was cleared");
        let (again, cached) = run(program, &shapes);
        assert!(cached, "{name}: the same structure again");
        assert_eq!(again, fresh, "{name}: from the cache vs fresh");
    }
}
