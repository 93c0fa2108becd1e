//! `Tensor::assign`: values are written into the buffer already backing the tensor, kernels
//! reading the old contents run first (write after read), a value reading the buffer at
//! other positions reads a copy, and mismatched inputs are errors naming both sides.

mod common;

use common::{Ref, Rng, check_f32};
use frontend_tensor::{DType, Tensor, TensorError};
use uop_ir::{Op, UOp};

/// The BUFFER behind a realized tensor.
fn buffer_of(t: &Tensor) -> UOp {
    let n = t.node();
    assert_eq!(n.op(), Op::Reshape, "{t:?} is not realized");
    n.src()[0].clone()
}

/// A realized random tensor of `shape` and its reference.
fn realized(rng: &mut Rng, shape: &[usize]) -> (Tensor, Ref) {
    let (t, r) = rng.tensor(shape);
    t.realize().expect("realize");
    (t, r)
}

#[test]
fn assign_doubles_in_place() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(1);
    let (a, ra) = realized(&mut rng, &[6, 9]);
    let buffer = buffer_of(&a);
    let out = a.assign(&a.mul_scalar(2.0).unwrap()).unwrap();
    let sched = Tensor::schedule(&[&a]).unwrap();
    assert_eq!(
        sched.kernels.len(),
        1,
        "an elementwise self-read is one kernel"
    );
    assert_eq!(sched.kernels[0].buffers, vec![buffer.clone()]);
    check_f32(&out, &ra.map(|v| 2.0 * v), 0.0, 0.0, "a*2");
    // the same buffer, and every handle of `a` sees the new values
    assert_eq!(buffer_of(&a), buffer);
    check_f32(&a, &ra.map(|v| 2.0 * v), 0.0, 0.0, "a");
    // again, reading the written values
    a.assign(&a.add_scalar(1.0).unwrap()).unwrap();
    check_f32(&a, &ra.map(|v| 2.0 * v + 1.0), 1e-6, 1e-6, "a*2+1");
    assert_eq!(buffer_of(&a), buffer);
}

#[test]
fn readers_of_the_old_contents_run_first() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(2);
    let (a, ra) = realized(&mut rng, &[5, 8]);
    let (b, rb) = rng.tensor(&[5, 8]);
    let buffer = buffer_of(&a);
    let x = a.add_scalar(1.0).unwrap();
    a.assign(&b).unwrap();
    // `a` comes first in the sink and in the graph order; x must still read the old a
    let sched = Tensor::schedule(&[&a, &x]).unwrap();
    assert_eq!(sched.kernels.len(), 2);
    assert_ne!(sched.kernels[0].buffers[0], buffer, "x's kernel runs first");
    assert_eq!(sched.kernels[1].buffers[0], buffer);
    Tensor::realize_all(&[&a, &x]).unwrap();
    check_f32(&x, &ra.map(|v| v + 1.0), 1e-6, 1e-6, "x = old a + 1");
    check_f32(&a, &rb, 0.0, 0.0, "a = b");
}

#[test]
fn a_lazy_reader_realized_alone_reads_the_old_contents() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(3);
    let (a, ra) = realized(&mut rng, &[7]);
    let (b, rb) = rng.tensor(&[7]);
    let x = a.add_scalar(1.0).unwrap();
    a.assign(&b).unwrap();
    x.realize().unwrap();
    check_f32(&x, &ra.map(|v| v + 1.0), 1e-6, 1e-6, "x = old a + 1");
    check_f32(&a, &rb, 0.0, 0.0, "a = b");
    check_f32(&x, &ra.map(|v| v + 1.0), 1e-6, 1e-6, "x after the write");
}

#[test]
fn reading_other_positions_reads_a_copy() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(4);
    for shape in [vec![9], vec![4, 7]] {
        let (a, ra) = realized(&mut rng, &shape);
        let buffer = buffer_of(&a);
        a.assign(&a.flip(&[0]).unwrap()).unwrap();
        let sched = Tensor::schedule(&[&a]).unwrap();
        assert_eq!(sched.kernels.len(), 2, "a copy, then the write");
        assert_eq!(sched.kernels[0].buffers[1], buffer, "the copy reads a");
        assert_eq!(sched.kernels[1].buffers[0], buffer);
        check_f32(&a, &ra.flip(&[0]), 0.0, 0.0, "a = a.flip(0)");
        assert_eq!(buffer_of(&a), buffer);
    }
    // a reduction of the buffer broadcast back over it
    let (a, ra) = realized(&mut rng, &[3, 5]);
    let s = a.sum(&[1], true).unwrap().expand(&[3, 5]).unwrap();
    a.assign(&a.sub(&s).unwrap()).unwrap();
    let rs = ra.sum(&[1], true).broadcast_to(&[3, 5]);
    check_f32(&a, &ra.zip(&rs, |x, y| x - y), 1e-5, 1e-5, "a - row sums");
}

#[test]
fn a_value_reading_old_and_new_contents() {
    if !common::cpu() {
        return;
    }
    // tinygrad's test_assign_diamond_possible
    let mut rng = Rng::new(5);
    let (a, ra) = realized(&mut rng, &[4, 3]);
    let times_a = a.mul_scalar(3.0).unwrap();
    a.assign(&Tensor::full(&[4, 3], 2.0, DType::F32).unwrap())
        .unwrap();
    let new_a = a.add(&times_a.add_scalar(-1.0).unwrap()).unwrap();
    let sched = Tensor::schedule(&[&new_a]).unwrap();
    assert_eq!(sched.kernels.len(), 3, "copy of old a, the write, new_a");
    check_f32(
        &new_a,
        &ra.map(|v| 2.0 + (3.0 * v - 1.0)),
        1e-6,
        1e-6,
        "new_a",
    );
    check_f32(&a, &ra.map(|_| 2.0), 0.0, 0.0, "a");
}

#[test]
fn views_of_the_buffer_see_the_write() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(6);
    let (a, _) = realized(&mut rng, &[4, 6]);
    let (b, rb) = rng.tensor(&[4, 6]);
    let (c, rc) = rng.tensor(&[4, 6]);
    let v = a.slice(&[(1, 3), (2, 5)]).unwrap().flip(&[1]).unwrap();
    let view_of = |r: &Ref| r.shrink(&[(1, 3), (2, 5)]).flip(&[1]);
    a.assign(&b).unwrap();
    a.realize().unwrap();
    check_f32(&v, &view_of(&rb), 0.0, 0.0, "view after the write");
    // realized together with the next write, a view reads the contents before it
    let w = a.slice(&[(1, 3), (2, 5)]).unwrap().flip(&[1]).unwrap();
    a.assign(&c).unwrap();
    Tensor::realize_all(&[&a, &w]).unwrap();
    check_f32(&w, &view_of(&rb), 0.0, 0.0, "view realized with the write");
    check_f32(&a, &rc, 0.0, 0.0, "a = c");
}

#[test]
fn a_lazy_target_is_realized_first() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(7);
    let (a, ra) = rng.tensor(&[5, 5]);
    let (b, rb) = rng.tensor(&[5, 5]);
    let t = a.add_scalar(1.0).unwrap();
    t.assign(&b.mul(&t).unwrap()).unwrap();
    check_f32(&t, &rb.zip(&ra, |y, x| y * (x + 1.0)), 1e-6, 1e-6, "t");
    check_f32(&a, &ra, 0.0, 0.0, "a is untouched");
}

#[test]
fn mismatches_are_errors_naming_both_sides() {
    if !common::cpu() {
        return;
    }
    let a = Tensor::zeros(&[2, 3], DType::F32).unwrap();
    let b = Tensor::zeros(&[3, 2], DType::F32).unwrap();
    let e = a.assign(&b).unwrap_err();
    assert!(matches!(e, TensorError::Assign { .. }), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("[3, 2]") && msg.contains("[2, 3]"), "{msg}");
    let i = Tensor::zeros(&[2, 3], DType::I32).unwrap();
    let msg = a.assign(&i).unwrap_err().to_string();
    assert!(msg.contains("i32") && msg.contains("f32"), "{msg}");
    // nothing was written or realized by a refused assign
    assert_eq!(a.to_vec::<f32>().unwrap(), vec![0.0; 6]);
}

#[test]
fn a_scalar_and_a_lazy_constant_can_be_assigned() {
    if !common::cpu() {
        return;
    }
    let s = Tensor::from_slice(&[3.0f32], &[]).unwrap();
    s.assign(&s.mul_scalar(2.0).unwrap()).unwrap();
    assert_eq!(s.to_vec::<f32>().unwrap(), vec![6.0]);
    let z = Tensor::zeros(&[2, 2], DType::I32).unwrap();
    let v = Tensor::from_slice(&[1i32, 2, 3, 4], &[2, 2]).unwrap();
    z.assign(&z.add(&v).unwrap()).unwrap();
    z.assign(&z.mul(&v).unwrap()).unwrap();
    assert_eq!(z.to_vec::<i32>().unwrap(), vec![1, 4, 9, 16]);
}

#[test]
fn a_write_that_ran_is_not_run_again() {
    if !common::cpu() {
        return;
    }
    let mut rng = Rng::new(8);
    let (a, ra) = realized(&mut rng, &[6]);
    a.assign(&a.add_scalar(1.0).unwrap()).unwrap();
    // y holds the lazy ASSIGN; realizing `a` first runs the write once
    let y = a.mul_scalar(2.0).unwrap();
    a.realize().unwrap();
    check_f32(&y, &ra.map(|v| 2.0 * (v + 1.0)), 1e-6, 1e-6, "y");
    check_f32(&a, &ra.map(|v| v + 1.0), 1e-6, 1e-6, "a, written once");
}
