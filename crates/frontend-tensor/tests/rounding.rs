//! Every op's result is rounded to its dtype once, at its end, so a result never depends on
//! where kernels split; reductions keep the input's dtype (integer sums are i64); long
//! float sums are accurate. Values marked "PyTorch" are what torch 2.x prints for the same
//! input on the CPU.

mod common;

use frontend_tensor::{DType, Tensor};
use half::{bf16, f16};

fn f16s(v: &[f32]) -> Tensor {
    let data: Vec<f16> = v.iter().map(|&x| f16::from_f32(x)).collect();
    Tensor::from_slice(&data, &[v.len() as i64]).expect("tensor")
}

fn values(t: &Tensor) -> Vec<f64> {
    t.cast(DType::F64)
        .and_then(|t| t.to_vec::<f64>())
        .expect("realize")
}

#[test]
fn f16_exp_rounds_once_fused_or_not() {
    if !common::cpu() {
        return;
    }
    // PyTorch: tensor([22032., 59872., inf], dtype=torch.float16)
    let want = [22032.0, 59872.0, f64::INFINITY];
    let x = f16s(&[10.0, 11.0, 12.0]);
    assert_eq!(values(&x.exp().expect("exp")), want, "fused");
    x.realize().expect("realize");
    assert_eq!(values(&x.exp().expect("exp")), want, "realized first");
    // exp of a computed (unrealized) input
    let y = f16s(&[5.0, 5.5, 6.0]).mul_scalar(2.0).expect("mul");
    assert_eq!(values(&y.exp().expect("exp")), want, "fused with its input");
}

#[test]
fn narrow_float_chains_round_after_each_op() {
    if !common::cpu() {
        return;
    }
    // PyTorch: (x*10000)*0.0001 overflows to inf in f16
    let x = f16s(&[10.0]);
    let y = x
        .mul_scalar(10000.0)
        .and_then(|t| t.mul_scalar(0.0001))
        .expect("ops");
    assert_eq!(values(&y), [f64::INFINITY]);
    // PyTorch: (x + 0.001) - x on bf16 [1, 3] is 0 (the 0.001 is lost in the add)
    let data = [bf16::from_f32(1.0), bf16::from_f32(3.0)];
    let b = Tensor::from_slice(&data, &[2]).expect("tensor");
    let d = b.add_scalar(0.001).and_then(|t| t.sub(&b)).expect("ops");
    assert_eq!(values(&d), [0.0, 0.0]);
}

#[test]
fn reductions_keep_the_input_dtype() {
    if !common::cpu() {
        return;
    }
    let x = f16s(&[1.0, 2.0, 3.0, 4.0])
        .reshape(&[2, 2])
        .expect("reshape");
    assert_eq!(x.sum(&[], false).expect("sum").dtype(), DType::F16);
    assert_eq!(x.mean(&[1], false).expect("mean").dtype(), DType::F16);
    assert_eq!(x.max(&[0], false).expect("max").dtype(), DType::F16);
    assert_eq!(x.matmul(&x).expect("matmul").dtype(), DType::F16);
    assert_eq!(
        values(&x.matmul(&x).expect("matmul")),
        [7.0, 10.0, 15.0, 22.0]
    );
    let b = x.cast(DType::BF16).expect("cast");
    assert_eq!(b.sum(&[0], false).expect("sum").dtype(), DType::BF16);
    // integers and bools sum to i64, as in PyTorch
    let i = Tensor::from_slice(&[100i8, 100, 100], &[3]).expect("tensor");
    let s = i.sum(&[], false).expect("sum");
    assert_eq!(s.dtype(), DType::I64);
    assert_eq!(s.to_vec::<i64>().expect("sum"), [300]);
    let flags = Tensor::from_slice(&[true, false, true], &[3]).expect("tensor");
    assert_eq!(
        flags.sum(&[], false).and_then(|t| t.to_vec::<i64>()).ok(),
        Some(vec![2])
    );
    // an explicit accumulator dtype
    let wide = x.sum_dtype(&[], false, DType::F64).expect("sum");
    assert_eq!(wide.dtype(), DType::F64);
    assert_eq!(wide.to_vec::<f64>().expect("sum"), [10.0]);
}

/// f16 sums accumulate in f32: 4096 halves of 1.0 sum past f16's 2048 limit of exact
/// integers and round once at the end.
#[test]
fn f16_sums_accumulate_in_f32() {
    if !common::cpu() {
        return;
    }
    let ones = Tensor::ones(&[4097], DType::F16).expect("ones");
    // 4097 rounds to 4096 in f16 (spacing 4 above 4096); an f16 accumulator stops at 2048
    assert_eq!(values(&ones.sum(&[], false).expect("sum")), [4096.0]);
}

#[test]
fn a_sum_of_2_to_the_33_ones_is_exact() {
    if !common::cpu() {
        return;
    }
    // the ones are a broadcast constant: no memory, 2^33 adds
    let ones = Tensor::ones(&[1 << 33], DType::F32).expect("ones");
    let s = ones.sum(&[], false).expect("sum");
    assert_eq!(s.to_vec::<f32>().expect("sum"), [(1u64 << 33) as f32]);
}

/// numpy's pairwise sum of f32 (8 accumulators over blocks of 128, halves above), the
/// accuracy a sum must match.
fn numpy_pairwise(v: &[f32]) -> f32 {
    if v.len() <= 128 {
        let mut r = [0f32; 8];
        for c in v.chunks(8) {
            for (acc, x) in r.iter_mut().zip(c) {
                *acc += x;
            }
        }
        return ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    }
    let half = v.len() / 2 / 8 * 8;
    numpy_pairwise(&v[..half]) + numpy_pairwise(&v[half..])
}

#[test]
fn a_sum_of_2_to_the_26_values_is_as_accurate_as_a_pairwise_sum() {
    if !common::cpu() {
        return;
    }
    let n = 1usize << 26;
    let mut rng = common::Rng::new(26);
    for (name, data) in [
        ("uniform [0, 1)", rng.uniform(n, 0.0, 1.0)),
        ("signed, |x| in [0.25, 2)", rng.nonzero(n)),
    ] {
        let x = Tensor::from_slice(&data, &[n as i64]).expect("tensor");
        let got = f64::from(
            x.sum(&[], false)
                .expect("sum")
                .to_vec::<f32>()
                .expect("sum")[0],
        );
        let exact: f64 = data.iter().map(|&v| f64::from(v)).sum();
        let magnitude: f64 = data.iter().map(|&v| f64::from(v).abs()).sum();
        let pairwise_error = (f64::from(numpy_pairwise(&data)) - exact).abs();
        let error = (got - exact).abs();
        // the bound of a blocked sum: a few roundings of f32 per level, relative to the
        // sum of magnitudes, and never much worse than numpy's pairwise sum
        let eps = f64::from(f32::EPSILON);
        let ulp = f64::from(got as f32).abs() * eps;
        assert!(
            error <= 16.0 * eps * magnitude,
            "{name}: error {error:e} of {got} vs exact {exact} is over the bound"
        );
        assert!(
            error <= 2.0 * pairwise_error + ulp,
            "{name}: error {error:e} vs numpy pairwise {pairwise_error:e}"
        );
    }
}
