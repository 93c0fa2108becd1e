//! Bad user input returns `Err` with a message that names the operation and the problem;
//! it never panics (DESIGN.md: "Errors, not panics"). None of these runs a kernel, but
//! the device must be registered to create tensors.

mod common;

use std::fmt::Debug;
use std::panic::{AssertUnwindSafe, catch_unwind};

use frontend_tensor::{DType, Result, ScatterReduce, Tensor};

/// `f` returns an error (it does not panic, and it does not succeed) whose message
/// contains each of `needles`.
fn expect_err<T: Debug>(what: &str, needles: &[&str], f: impl FnOnce() -> Result<T>) {
    let r = catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| panic!("{what}: panicked instead of returning an error"));
    let msg = match r {
        Ok(v) => panic!("{what}: returned Ok({v:?}), want an error"),
        Err(e) => e.to_string(),
    };
    for n in needles {
        assert!(
            msg.contains(n),
            "{what}: the message {msg:?} does not mention {n:?}"
        );
    }
}

fn t23() -> Tensor {
    common::cpu();
    Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).expect("from_slice")
}

#[test]
fn reshape_to_a_different_count() {
    expect_err(
        "reshape [2,3] -> [4]",
        &["reshape", "[2, 3]", "[4]", "number of elements"],
        || t23().reshape(&[4]),
    );
    expect_err("reshape [2,3] -> [7]", &["reshape", "[7]"], || {
        t23().reshape(&[7])
    });
    expect_err("reshape [2,3] -> [-1, -6]", &["reshape", "-1"], || {
        t23().reshape(&[-1, -6])
    });
}

#[test]
fn expand_of_a_non_1_dim() {
    expect_err(
        "expand [2,3] -> [4,3]",
        &["expand", "[2, 3]", "[4, 3]", "size-1"],
        || t23().expand(&[4, 3]),
    );
    expect_err("expand [2,3] -> [2,3,4] (rank)", &["expand"], || {
        t23().expand(&[2, 3, 4])
    });
    expect_err("broadcast_to [2,3] -> [3]", &["broadcast_to"], || {
        t23().broadcast_to(&[3])
    });
    expect_err("broadcast_to [2,3] -> [4,3]", &["broadcast_to"], || {
        t23().broadcast_to(&[4, 3])
    });
}

#[test]
fn binary_ops_of_shapes_that_do_not_broadcast() {
    let b = || Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[4]).expect("from_slice");
    expect_err(
        "add [2,3] + [4]",
        &["add", "[2, 3]", "[4]", "broadcast"],
        || t23().add(&b()),
    );
    expect_err("mul", &["mul", "broadcast"], || t23().mul(&b()));
    expect_err("lt", &["lt", "broadcast"], || t23().lt(&b()));
    expect_err("where", &["where", "broadcast"], || {
        t23().lt(&t23()).and_then(|c| c.where_(&b(), &b()))
    });
    expect_err("where branches", &["where", "broadcast"], || {
        b().where_(&t23(), &b())
    });
}

#[test]
fn matmul_mismatch() {
    expect_err(
        "matmul [2,3] @ [2,3]",
        &["matmul", "[2, 3]", "inner"],
        || t23().matmul(&t23()),
    );
    expect_err(
        "matmul of a 6-vector and [2, 3]",
        &["matmul", "[6]", "inner"],
        || t23().reshape(&[6]).and_then(|v| v.matmul(&t23())),
    );
    expect_err(
        "matmul of batches that do not broadcast",
        &["matmul", "batch"],
        || {
            let a = t23().reshape(&[2, 1, 3])?.expand(&[2, 2, 3])?;
            let b = t23()
                .transpose(0, 1)?
                .reshape(&[1, 3, 2])?
                .expand(&[3, 3, 2])?;
            a.matmul(&b)
        },
    );
    expect_err("matmul of a scalar", &["matmul"], || {
        t23().sum(&[], false)?.matmul(&t23())
    });
}

#[test]
fn negative_dims() {
    common::cpu();
    expect_err("full [-2]", &["full", "-2"], || {
        Tensor::full(&[-2], 1.0, DType::F32)
    });
    expect_err("arange -3", &["-3"], || Tensor::arange(-3, DType::I32));
    expect_err("reshape to [-2, -3]", &["reshape"], || {
        t23().reshape(&[-2, -3])
    });
    expect_err("shrink with end before begin", &["shrink"], || {
        t23().shrink(&[(0, 2), (2, 1)])
    });
}

#[test]
fn axes_out_of_range() {
    expect_err(
        "sum axis -3 of rank 2",
        &["sum", "axis -3", "rank 2"],
        || t23().sum(&[-3], false),
    );
    expect_err("sum axis 2 of rank 2", &["sum", "axis 2", "rank 2"], || {
        t23().sum(&[2], false)
    });
    expect_err("max axis -3", &["max", "-3"], || t23().max(&[-3], true));
    expect_err("min axis 5", &["5"], || t23().min(&[5], false));
    expect_err("mean axis -4", &["mean", "-4"], || t23().mean(&[-4], false));
    expect_err("var axis 9", &["9"], || t23().var(&[9], false));
    expect_err("softmax axis -3", &["-3"], || t23().softmax(-3));
    expect_err("softmax axis 2", &["2"], || t23().softmax(2));
    expect_err("layernorm axis 7", &["7"], || t23().layernorm(7, 1e-5));
    expect_err("transpose 0, 2", &["transpose", "axis 2"], || {
        t23().transpose(0, 2)
    });
    expect_err("flip axis 3", &["flip", "axis 3"], || t23().flip(&[3]));
    expect_err("unsqueeze 3 of rank 2", &["unsqueeze", "3"], || {
        t23().unsqueeze(3)
    });
    expect_err("slice with 3 ranges of rank 2", &["slice"], || {
        t23().slice(&[(0, 1), (0, 1), (0, 1)])
    });
}

#[test]
fn movement_args_that_do_not_fit() {
    expect_err("permute [0, 0]", &["permute", "[0, 0]"], || {
        t23().permute(&[0, 0])
    });
    expect_err("permute [0, 2]", &["permute"], || t23().permute(&[0, 2]));
    expect_err(
        "permute of rank 3 on rank 2",
        &["permute", "rank 2"],
        || t23().permute(&[0, 1, 2]),
    );
    expect_err("pad with a negative amount", &["pad", "negative"], || {
        t23().pad(&[(0, 0), (-1, 0)])
    });
    expect_err("pad of the wrong rank", &["pad", "rank 2"], || {
        t23().pad(&[(1, 1)])
    });
    expect_err("shrink past the end", &["shrink", "[2, 3]"], || {
        t23().shrink(&[(0, 2), (0, 4)])
    });
    expect_err("shrink from a negative start", &["shrink"], || {
        t23().shrink(&[(-1, 2), (0, 3)])
    });
    expect_err("shrink of the wrong rank", &["shrink"], || {
        t23().shrink(&[(0, 1)])
    });
    // more memory than the address space: the allocator's failure is an error
    expect_err("realize 2^60 f32", &["allocate"], || {
        Tensor::zeros(&[1 << 60], DType::F32)?
            .exp()?
            .to_vec::<f32>()
    });
    expect_err("a shape too large for i64", &["fit"], || {
        Tensor::zeros(&[i64::MAX, 2], DType::F32)
    });
}

#[test]
fn data_and_dtype_mismatches() {
    common::cpu();
    expect_err(
        "from_slice with 5 values for [2, 3]",
        &["from_slice", "5", "[2, 3]"],
        || Tensor::from_slice(&[1.0f32; 5], &[2, 3]),
    );
    expect_err("to_vec::<i32> of f32", &["to_vec", "i32", "f32"], || {
        t23().to_vec::<i32>()
    });
    expect_err("to_vec::<f64> of f32", &["to_vec", "f64", "f32"], || {
        t23().to_vec::<f64>()
    });
    expect_err("to_vec::<f32> of bool", &["to_vec", "f32", "bool"], || {
        t23().lt(&t23())?.to_vec::<f32>()
    });
    expect_err("to_vec::<bool> of i32", &["to_vec", "bool", "i32"], || {
        t23().cast(DType::I32)?.to_vec::<bool>()
    });
    expect_err("cast to void", &["cast"], || t23().cast(DType::Void));
    expect_err("an unknown device", &["NOPE"], || {
        Tensor::from_slice_on(&[1.0f32], &[1], "NOPE")
    });
}

/// `f` fails with a message that starts with `method:` (the public method called, not an op
/// it is built from) and contains each of `needles`.
fn expect_named<T: Debug>(method: &str, needles: &[&str], f: impl FnOnce() -> Result<T>) {
    let prefix = format!("{method}:");
    let mut all = vec![prefix.as_str()];
    all.extend_from_slice(needles);
    expect_err(method, &all, || {
        let r = f();
        if let Err(e) = &r {
            assert!(
                e.to_string().starts_with(&prefix),
                "{method}: the message {:?} names another op first",
                e.to_string()
            );
        }
        r
    });
}

#[test]
fn methods_built_from_other_ops_name_themselves() {
    let v4 = || Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[4]).expect("from_slice");
    expect_named("min", &["axis 5", "[2, 3]"], || t23().min(&[5], false));
    expect_named("var", &["axis 9", "[2, 3]"], || t23().var(&[9], false));
    expect_named("softmax", &["axis -3", "[2, 3]"], || t23().softmax(-3));
    expect_named("softmax", &["axis 2", "rank 2"], || t23().softmax(2));
    expect_named("layernorm", &["axis 7", "[2, 3]"], || {
        t23().layernorm(7, 1e-5)
    });
    expect_named("minimum", &["[2, 3]", "[4]", "broadcast"], || {
        t23().minimum(&v4())
    });
    expect_named("ones", &["[-1]"], || Tensor::ones(&[-1], DType::I32));
    expect_named("arange", &["[-3]"], || Tensor::arange(-3, DType::I32));
    expect_named("arange", &["void"], || Tensor::arange(3, DType::Void));
}

#[test]
fn shapes_are_named_in_the_users_order() {
    let v4 = || Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[4]).expect("from_slice");
    expect_named("gt", &["shapes [2, 3] and [4]"], || t23().gt(&v4()));
    expect_named("lt", &["shapes [4] and [2, 3]"], || v4().lt(&t23()));
}

#[test]
fn axis_errors_name_the_shape() {
    expect_named("sum", &["axis 2", "shape [2, 3]", "rank 2"], || {
        t23().sum(&[2], false)
    });
    expect_named("max", &["axis -3", "shape [2, 3]"], || {
        t23().max(&[-3], true)
    });
    expect_named("mean", &["axis -4", "shape [2, 3]"], || {
        t23().mean(&[-4], false)
    });
    expect_named("transpose", &["axis 2", "shape [2, 3]"], || {
        t23().transpose(0, 2)
    });
    expect_named("flip", &["axis 3", "shape [2, 3]"], || t23().flip(&[3]));
    expect_named("unsqueeze", &["axis 3", "shape [2, 3]"], || {
        t23().unsqueeze(3)
    });
    expect_named("slice", &["shape [2, 3]"], || {
        t23().slice(&[(0, 1), (0, 1), (0, 1)])
    });
}

#[test]
fn scatter_reduce_of_bad_arguments() {
    let t34 = || Tensor::rand(&[3, 4]).expect("rand");
    let index = |shape: &[i64]| {
        let n: i64 = shape.iter().product();
        Tensor::zeros(&[n], DType::I64)?.reshape(shape)
    };
    let go = |axis: isize, idx: Result<Tensor>, src: Result<Tensor>, reduce: ScatterReduce| {
        t34().scatter_reduce(axis, &idx?, &src?, reduce, true)
    };
    expect_named("scatter_reduce", &["axis 2", "[3, 4]"], || {
        go(2, index(&[2, 4]), Tensor::rand(&[2, 4]), ScatterReduce::Sum)
    });
    expect_named("scatter_reduce", &["axis -3"], || {
        go(
            -3,
            index(&[2, 4]),
            Tensor::rand(&[2, 4]),
            ScatterReduce::Amax,
        )
    });
    expect_named("scatter_reduce", &["index", "integers", "f32"], || {
        go(
            0,
            Tensor::zeros(&[2, 4], DType::F32),
            Tensor::rand(&[2, 4]),
            ScatterReduce::Sum,
        )
    });
    expect_named("scatter_reduce", &["src", "f64", "f32"], || {
        go(
            0,
            index(&[2, 4]),
            Tensor::zeros(&[2, 4], DType::F64),
            ScatterReduce::Prod,
        )
    });
    expect_named("scatter_reduce", &["[2, 5]", "[3, 4]"], || {
        go(
            0,
            index(&[2, 5]),
            Tensor::rand(&[2, 5]),
            ScatterReduce::Mean,
        )
    });
    expect_named("scatter_reduce", &["[2, 4]", "[1, 4]", "src"], || {
        go(
            0,
            index(&[2, 4]),
            Tensor::rand(&[1, 4]),
            ScatterReduce::Amin,
        )
    });
    expect_named("scatter_reduce", &["rank", "[8]"], || {
        go(0, index(&[8]), Tensor::rand(&[8]), ScatterReduce::Sum)
    });
    expect_named("scatter_reduce", &["mean", "bool"], || {
        let b = Tensor::zeros(&[3, 4], DType::Bool)?;
        b.scatter_reduce(0, &index(&[2, 4])?, &b, ScatterReduce::Mean, false)
    });
}

#[test]
fn masked_select_of_bad_masks() {
    let mask = |shape: &[i64], dtype: DType| Tensor::zeros(shape, dtype);
    expect_named("masked_select", &["bool", "u8"], || {
        t23().masked_select(&mask(&[2, 3], DType::U8)?)
    });
    expect_named("masked_select", &["bool", "f32"], || {
        t23().masked_select(&mask(&[3], DType::F32)?)
    });
    expect_named("masked_select", &["[2, 3]", "[2]", "broadcast"], || {
        t23().masked_select(&mask(&[2], DType::Bool)?)
    });
}

#[test]
fn bitcast_of_sizes_that_do_not_fit() {
    expect_named(
        "bitcast",
        &["f32", "f64", "divisible by 2", "[2, 3]"],
        || t23().bitcast(DType::F64),
    );
    expect_named("bitcast", &["u8", "i32", "divisible by 4"], || {
        Tensor::zeros(&[6], DType::U8)?.bitcast(DType::I32)
    });
    expect_named("bitcast", &["scalar", "f32", "i16"], || {
        t23().sum(&[], false)?.bitcast(DType::I16)
    });
    expect_named("bitcast", &["void"], || t23().bitcast(DType::Void));
    expect_named("bitcast", &["index"], || t23().bitcast(DType::Index));
}

#[test]
fn std_and_mode_of_bad_axes_and_dtypes() {
    expect_named("std", &["axis 2", "[2, 3]"], || t23().std(&[2], false));
    expect_named("std", &["axis -3", "[2, 3]"], || t23().std(&[0, -3], true));
    expect_named("std", &["i32"], || t23().cast(DType::I32)?.std(&[], false));
    expect_named("std", &["bool"], || t23().lt(&t23())?.std(&[1], false));
    expect_named("mode", &["axis 2", "[2, 3]"], || t23().mode(2, false));
    expect_named("mode", &["axis -3", "[2, 3]"], || t23().mode(-3, true));
    expect_named("mode", &["empty", "[0, 3]"], || {
        Tensor::zeros(&[0, 3], DType::F32)?.mode(0, false)
    });
    expect_named("mode", &["axis 1", "[]"], || {
        t23().sum(&[], false)?.mode(1, false)
    });
}
