//! The selection ops where PyTorch cannot be the oracle: `scatter_reduce` with indices out
//! of range (PyTorch raises; ferrograd sends those values nowhere and never reads or writes
//! out of bounds) and the one gradient where it departs from PyTorch on purpose; `bitcast`
//! of constants (no kernel folds them) and round trips through bytes, bit for bit.

mod common;

use frontend_tensor::{DType, Result, ScatterReduce, Tensor};

const REDUCES: [ScatterReduce; 5] = [
    ScatterReduce::Sum,
    ScatterReduce::Prod,
    ScatterReduce::Mean,
    ScatterReduce::Amax,
    ScatterReduce::Amin,
];

#[test]
fn scatter_reduce_sends_indices_out_of_range_nowhere() -> Result<()> {
    if !common::cpu() {
        return Ok(());
    }
    let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0], &[3])?;
    // only 30 lands (at 1); 10, 20 and 40 are out of range
    let index = Tensor::from_slice(&[5i64, -1, 1, 3], &[4])?;
    let src = Tensor::from_slice(&[10.0f32, 20.0, 30.0, 40.0], &[4])?;
    for reduce in REDUCES {
        for include_self in [true, false] {
            let got = x
                .scatter_reduce(0, &index, &src, reduce, include_self)?
                .to_vec::<f32>()?;
            let at_1 = match (reduce, include_self) {
                (_, false) => 30.0,
                (ScatterReduce::Sum, true) => 32.0,
                (ScatterReduce::Prod, true) => 60.0,
                (ScatterReduce::Mean, true) => 16.0,
                (ScatterReduce::Amax, true) => 30.0,
                (ScatterReduce::Amin, true) => 2.0,
            };
            assert_eq!(
                got,
                [1.0, at_1, 3.0],
                "{reduce:?}, include_self {include_self}"
            );
        }
    }
    // and along an inner axis of a 2-D input, for integers
    let x = Tensor::from_slice(&[1i32, 2, 3, 4], &[2, 2])?;
    let index = Tensor::from_slice(&[2i64, 0, -3, 1], &[2, 2])?;
    let src = Tensor::from_slice(&[7i32, 8, 9, 10], &[2, 2])?;
    let got = x
        .scatter_reduce(1, &index, &src, ScatterReduce::Amax, false)?
        .to_vec::<i32>()?;
    assert_eq!(got, [8, 2, 3, 10]);
    Ok(())
}

#[test]
fn scatter_reduce_amax_gradient_ignores_an_input_left_out() -> Result<()> {
    if !common::cpu() {
        return Ok(());
    }
    // without include_self the input's 5 is not a candidate, so src's 5 is the only
    // maximum and gets the whole gradient (PyTorch counts the input's tie: 0.5)
    let x = Tensor::from_slice(&[5.0f64, 0.0], &[2])?.requires_grad_(true)?;
    let src = Tensor::from_slice(&[5.0f64, 1.0], &[2])?.requires_grad_(true)?;
    let index = Tensor::from_slice(&[0i64, 0], &[2])?;
    let out = x.scatter_reduce(0, &index, &src, ScatterReduce::Amax, false)?;
    let grads = out.sum(&[], false)?.gradient(&[&x, &src])?;
    assert_eq!(out.to_vec::<f64>()?, [5.0, 0.0]);
    assert_eq!(grads[0].to_vec::<f64>()?, [0.0, 1.0]);
    assert_eq!(grads[1].to_vec::<f64>()?, [1.0, 0.0]);
    Ok(())
}

#[test]
fn bitcast_of_constants_and_round_trips_keep_every_bit() -> Result<()> {
    if !common::cpu() {
        return Ok(());
    }
    let ones = Tensor::full(&[3], 1.0, DType::F32)?.bitcast(DType::I32)?;
    assert_eq!(ones.to_vec::<i32>()?, [0x3f80_0000; 3]);
    let bytes = Tensor::full(&[1], -2.0, DType::F64)?.bitcast(DType::U8)?;
    assert_eq!(bytes.to_vec::<u8>()?, (-2.0f64).to_le_bytes());
    let values = [
        1.5f32,
        -0.0,
        f32::INFINITY,
        f32::NAN,
        f32::MIN_POSITIVE / 8.0,
        -3.25e7,
    ];
    let x = Tensor::from_slice(&values, &[3, 2])?;
    for through in [DType::U8, DType::I16, DType::U32, DType::F64, DType::U64] {
        let back = x.bitcast(through)?.bitcast(DType::F32)?.to_vec::<f32>()?;
        let bits: Vec<u32> = back.iter().map(|v| v.to_bits()).collect();
        let want: Vec<u32> = values.iter().map(|v| v.to_bits()).collect();
        assert_eq!(bits, want, "f32 -> {through} -> f32");
    }
    let wide = Tensor::from_slice(&[0x0102_0304_0506_0708u64], &[1])?;
    assert_eq!(
        wide.bitcast(DType::U16)?.to_vec::<u16>()?,
        [0x0708, 0x0506, 0x0304, 0x0102]
    );
    Ok(())
}
