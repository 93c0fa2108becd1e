//! Control flow, sequences and optionals: `If`, `Loop`, `Scan` (opset 8's batched form
//! too) run their subgraphs through the executor, each seeing the values around it;
//! conditions and trip counts are read on the host. Sequences (`SequenceConstruct`,
//! `SequenceEmpty`, `SequenceInsert`, `SequenceAt`, `SequenceErase`, `SequenceLength`,
//! `SplitToSequence`, `ConcatFromSequence`, `SequenceMap`) hold lazy tensors; an
//! optional is a value or `Value::None` (`Optional`, `OptionalHasElement`,
//! `OptionalGetElement`).

use dtype::DType;
use frontend_tensor::Tensor;

use super::{Inputs, OpCtx, OpDef, axis, onnx, out_host};
use crate::elem::ElemType;
use crate::error::{Result, invalid};
use crate::graph::{Dim, Graph, ValueType};
use crate::host::HostTensor;
use crate::value::{Sequence, TensorValue, Value};

pub(crate) const OPS: &[OpDef] = &[
    onnx("If", if_op),
    onnx("Loop", loop_op),
    onnx("Scan", scan),
    onnx("SequenceConstruct", sequence_construct),
    onnx("SequenceEmpty", sequence_empty),
    onnx("SequenceInsert", sequence_insert),
    onnx("SequenceAt", sequence_at),
    onnx("SequenceErase", sequence_erase),
    onnx("SequenceLength", sequence_length),
    onnx("SplitToSequence", split_to_sequence),
    onnx("ConcatFromSequence", concat_from_sequence),
    onnx("SequenceMap", sequence_map),
    onnx("Optional", optional),
    onnx("OptionalHasElement", optional_has_element),
    onnx("OptionalGetElement", optional_get_element),
];

fn host_i64(v: i64) -> Result<Value> {
    Ok(out_host(HostTensor::from_i64s(
        ElemType::Native(DType::I64),
        vec![],
        &[v],
    )?))
}

fn host_bool(v: bool) -> Result<Value> {
    Ok(out_host(HostTensor::from_i64s(
        ElemType::Native(DType::Bool),
        vec![],
        &[i64::from(v)],
    )?))
}

fn tensor_value(t: Tensor, elem: ElemType) -> Result<TensorValue> {
    TensorValue::from_tensor_as(t, elem)
}

fn if_op(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let cond = i.tensor(0)?.scalar_f64()? != 0.0;
    let g = ctx.graph(if cond { "then_branch" } else { "else_branch" })?;
    ctx.run_subgraph(&g, Vec::new())
}

/// An empty tensor for a scan output no iteration produced, shaped as declared.
fn empty_scan_output(g: &Graph, k: usize) -> Result<Value> {
    let ty = g.outputs.get(k).map(|o| &o.ty);
    let (elem, dims) = match ty {
        Some(ValueType::Tensor { elem, shape }) => (ElemType::from_onnx(*elem)?, shape.clone()),
        _ => (ElemType::Native(DType::F32), None),
    };
    let mut shape = vec![0];
    for d in dims.unwrap_or_default() {
        match d {
            Dim::Fixed(n) => shape.push(n),
            _ => {
                return Err(invalid!(
                    "scan output {k} has no fixed shape to give an empty result"
                ));
            }
        }
    }
    Ok(out_host(HostTensor::new(elem, shape, Vec::new())?))
}

/// Stacks per-iteration values along `axis` (a new dim), reversed when asked.
fn stack_values(items: &[Value], axis_at: i64, reverse: bool, device: &str) -> Result<Value> {
    let mut ts: Vec<&TensorValue> = items
        .iter()
        .map(|v| {
            v.tensor()
                .ok_or_else(|| invalid!("a scan output must be a tensor, got {}", v.kind()))
        })
        .collect::<Result<_>>()?;
    if reverse {
        ts.reverse();
    }
    let first = ts.first().ok_or_else(|| invalid!("nothing to stack"))?;
    let elem = first.elem();
    let a = axis(axis_at, first.rank() + 1)?;
    let dev: Vec<Tensor> = ts
        .iter()
        .map(|t| t.tensor_on(device))
        .collect::<Result<_>>()?;
    let refs: Vec<&Tensor> = dev.iter().collect();
    Ok(Value::Tensor(tensor_value(
        Tensor::stack(&refs, a as isize)?,
        elem,
    )?))
}

fn loop_op(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let body = ctx.graph("body")?;
    let max_trip = match i.opt_tensor(0)? {
        Some(m) => Some(m.scalar_i64()?),
        None => None,
    };
    let mut cond = match i.opt_tensor(1)? {
        Some(c) => c.scalar_f64()? != 0.0,
        None => true,
    };
    let mut carried: Vec<Value> = (2..i.len())
        .map(|k| i.value(k).cloned().unwrap_or(Value::None))
        .collect();
    let n_carried = carried.len();
    let n_scan = body
        .outputs
        .len()
        .checked_sub(1 + n_carried)
        .ok_or_else(|| {
            invalid!(
                "the body has {} outputs for {n_carried} loop-carried values",
                body.outputs.len()
            )
        })?;
    let mut scans: Vec<Vec<Value>> = vec![Vec::new(); n_scan];
    let mut iter = 0i64;
    const MAX_ITERATIONS: i64 = 1 << 20;
    while cond && max_trip.is_none_or(|m| iter < m) {
        if iter >= MAX_ITERATIONS {
            return Err(invalid!("more than {MAX_ITERATIONS} iterations"));
        }
        let mut args = vec![host_i64(iter)?, host_bool(cond)?];
        args.extend(carried.iter().cloned());
        let outs = ctx.run_subgraph(&body, args)?;
        cond = match outs.first() {
            Some(Value::Tensor(c)) => c.scalar_f64()? != 0.0,
            _ => return Err(invalid!("the body's first output must be the condition")),
        };
        carried = outs[1..1 + n_carried].to_vec();
        for (k, v) in outs[1 + n_carried..].iter().enumerate() {
            scans[k].push(v.clone());
        }
        iter += 1;
    }
    let mut results = carried;
    for (k, items) in scans.iter().enumerate() {
        results.push(if items.is_empty() {
            empty_scan_output(&body, 1 + n_carried + k)?
        } else if items.iter().all(|v| matches!(v, Value::Sequence(_))) {
            return Err(invalid!("scan outputs of sequences are not supported"));
        } else {
            stack_values(items, 0, false, ctx.device())?
        });
    }
    Ok(results)
}

/// Entry `t` of `x` along `a`, that dim dropped.
fn slice_at(x: &TensorValue, a: usize, t: i64, device: &str) -> Result<TensorValue> {
    let d = x.tensor_on(device)?;
    let mut keep: Vec<(i64, i64)> = d.shape().iter().map(|&n| (0, n)).collect();
    keep[a] = (t, t + 1);
    tensor_value(d.shrink(&keep)?.squeeze_axes(&[a as isize])?, x.elem())
}

fn scan(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let body = ctx.graph("body")?;
    let m = ctx
        .int_opt("num_scan_inputs")?
        .ok_or_else(|| invalid!("attribute 'num_scan_inputs' is required"))? as usize;
    if ctx.opset < 9 {
        return scan_v8(ctx, i, &body, m);
    }
    let given: Vec<TensorValue> = (0..i.len())
        .map(|k| i.tensor(k).cloned())
        .collect::<Result<_>>()?;
    let n = given
        .len()
        .checked_sub(m)
        .ok_or_else(|| invalid!("{m} scan inputs of {} inputs", given.len()))?;
    scan_core(ctx, &body, &given[..n], &given[n..], 0)
}

/// One scan over `states` and `inputs` whose scanned axes are shifted by `shift` (opset 8
/// scans each batch entry with the batch dim removed).
fn scan_core(
    ctx: &OpCtx,
    body: &Graph,
    states: &[TensorValue],
    inputs: &[TensorValue],
    shift: i64,
) -> Result<Vec<Value>> {
    let m = inputs.len();
    let per_input =
        |name: &str| -> Result<Vec<i64>> { Ok(ctx.ints(name)?.unwrap_or_else(|| vec![0; m])) };
    let in_axes = per_input("scan_input_axes")?;
    let in_dirs = per_input("scan_input_directions")?;
    let n_out = body
        .outputs
        .len()
        .checked_sub(states.len())
        .ok_or_else(|| invalid!("the body has too few outputs"))?;
    let out_axes = ctx
        .ints("scan_output_axes")?
        .unwrap_or_else(|| vec![0; n_out]);
    let out_dirs = ctx
        .ints("scan_output_directions")?
        .unwrap_or_else(|| vec![0; n_out]);
    if in_axes.len() != m
        || in_dirs.len() != m
        || out_axes.len() != n_out
        || out_dirs.len() != n_out
    {
        return Err(invalid!(
            "scan axes and directions must have one entry per scan input and output"
        ));
    }
    let axes: Vec<usize> = inputs
        .iter()
        .zip(&in_axes)
        .map(|(x, &a)| axis(a + shift, x.rank()))
        .collect::<Result<_>>()?;
    let len = match inputs.first() {
        Some(x) => x.shape()[axes[0]],
        None => return Err(invalid!("Scan needs at least one scan input")),
    };
    if inputs.iter().zip(&axes).any(|(x, &a)| x.shape()[a] != len) {
        return Err(invalid!(
            "scan inputs differ in length along their scan axes"
        ));
    }
    if len > 1 << 20 {
        return Err(invalid!(
            "a scan of {len} steps (at most {} are run)",
            1 << 20
        ));
    }
    let mut state: Vec<Value> = states.iter().cloned().map(Value::Tensor).collect();
    let mut outs: Vec<Vec<Value>> = vec![Vec::new(); n_out];
    for t in 0..len {
        let mut args = state.clone();
        for (k, x) in inputs.iter().enumerate() {
            let at = if in_dirs[k] != 0 { len - 1 - t } else { t };
            args.push(Value::Tensor(slice_at(x, axes[k], at, ctx.device())?));
        }
        let res = ctx.run_subgraph(body, args)?;
        state = res[..states.len()].to_vec();
        for (k, v) in res[states.len()..].iter().enumerate() {
            outs[k].push(v.clone());
        }
    }
    let mut results = state;
    for (k, items) in outs.iter().enumerate() {
        results.push(if items.is_empty() {
            empty_scan_output(body, states.len() + k)?
        } else {
            stack_values(items, out_axes[k], out_dirs[k] != 0, ctx.device())?
        });
    }
    Ok(results)
}

/// Opset 8: every input has a leading batch dim; each batch entry is scanned alone.
fn scan_v8(ctx: &OpCtx, i: &Inputs, body: &Graph, m: usize) -> Result<Vec<Value>> {
    if i.opt_tensor(0)?.is_some() {
        return Err(invalid!(
            "sequence_lens is not supported (every sequence must be full length)"
        ));
    }
    let given: Vec<TensorValue> = (1..i.len())
        .map(|k| i.tensor(k).cloned())
        .collect::<Result<_>>()?;
    let n = given
        .len()
        .checked_sub(m)
        .ok_or_else(|| invalid!("{m} scan inputs of {} inputs", given.len()))?;
    let batch = given
        .first()
        .map_or(0, |g| g.shape().first().copied().unwrap_or(0));
    let mut per_batch: Vec<Vec<Value>> = Vec::new();
    for b in 0..batch {
        let pick = |x: &TensorValue| slice_at(x, 0, b, ctx.device());
        let states: Vec<TensorValue> = given[..n].iter().map(pick).collect::<Result<_>>()?;
        let inputs: Vec<TensorValue> = given[n..].iter().map(pick).collect::<Result<_>>()?;
        per_batch.push(scan_core(ctx, body, &states, &inputs, 0)?);
    }
    let width = per_batch.first().map_or(0, |r| r.len());
    (0..width)
        .map(|k| {
            let items: Vec<Value> = per_batch.iter().map(|r| r[k].clone()).collect();
            stack_values(&items, 0, false, ctx.device())
        })
        .collect()
}

fn seq_value(elem: ElemType, items: Vec<TensorValue>) -> Value {
    Value::Sequence(Sequence { elem, items })
}

fn sequence_construct(_ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let items: Vec<TensorValue> = i.rest(0)?.into_iter().cloned().collect();
    let elem = items
        .first()
        .map(|t| t.elem())
        .ok_or_else(|| invalid!("needs at least one input"))?;
    if items.iter().any(|t| t.elem() != elem) {
        return Err(invalid!(
            "every tensor of a sequence must have one element type"
        ));
    }
    Ok(vec![seq_value(elem, items)])
}

fn sequence_empty(ctx: &OpCtx, _i: &Inputs) -> Result<Vec<Value>> {
    let elem = ElemType::from_onnx(ctx.int("dtype", 1)? as i32)?;
    Ok(vec![seq_value(elem, Vec::new())])
}

/// A position in a sequence of `n` (negative from the end); `insert` allows `n`.
fn position(p: i64, n: usize, insert: bool) -> Result<usize> {
    let n = n as i64;
    let q = if p < 0 { p + n } else { p };
    let top = if insert { n } else { n - 1 };
    if q < 0 || q > top {
        return Err(invalid!(
            "position {p} is out of range for a sequence of {n}"
        ));
    }
    Ok(q as usize)
}

fn sequence_insert(_ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let s = i.sequence(0)?;
    let t = i.tensor(1)?.clone();
    let mut items = s.items.clone();
    let at = match i.opt_tensor(2)? {
        Some(p) => position(p.scalar_i64()?, items.len(), true)?,
        None => items.len(),
    };
    items.insert(at, t);
    Ok(vec![seq_value(s.elem, items)])
}

fn sequence_at(_ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let s = i.sequence(0)?;
    let at = position(i.tensor(1)?.scalar_i64()?, s.items.len(), false)?;
    Ok(vec![Value::Tensor(s.items[at].clone())])
}

fn sequence_erase(_ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let s = i.sequence(0)?;
    let mut items = s.items.clone();
    if items.is_empty() {
        return Err(invalid!("cannot erase from an empty sequence"));
    }
    let at = match i.opt_tensor(1)? {
        Some(p) => position(p.scalar_i64()?, items.len(), false)?,
        None => items.len() - 1,
    };
    items.remove(at);
    Ok(vec![seq_value(s.elem, items)])
}

fn sequence_length(_ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    Ok(vec![host_i64(i.sequence(0)?.items.len() as i64)?])
}

fn split_to_sequence(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let x = i.tensor(0)?;
    let a = axis(ctx.int("axis", 0)?, x.rank())?;
    let n = x.shape()[a];
    let t = ctx.t(x)?;
    let (sizes, squeeze) = match i.opt_tensor(1)? {
        None => (vec![1; n as usize], ctx.int("keepdims", 1)? == 0),
        Some(s) if s.rank() == 0 => {
            let c = s.scalar_i64()?;
            if c < 1 {
                return Err(invalid!("split size {c} must be positive"));
            }
            let mut v = vec![c; (n / c) as usize];
            if n % c != 0 {
                v.push(n % c);
            }
            (v, false)
        }
        Some(s) => (s.ints()?, false),
    };
    if sizes.iter().sum::<i64>() != n || sizes.iter().any(|&s| s < 0) {
        return Err(invalid!("split sizes {sizes:?} do not add up to {n}"));
    }
    let parts = t.split_sizes(&sizes, a as isize)?;
    let items: Vec<TensorValue> = parts
        .into_iter()
        .map(|p| {
            let p = if squeeze {
                p.squeeze_axes(&[a as isize])?
            } else {
                p
            };
            tensor_value(p, x.elem())
        })
        .collect::<Result<_>>()?;
    Ok(vec![seq_value(x.elem(), items)])
}

fn concat_from_sequence(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let s = i.sequence(0)?;
    let first = s
        .items
        .first()
        .ok_or_else(|| invalid!("cannot join an empty sequence"))?;
    let new_axis = ctx.int("new_axis", 0)? != 0;
    let rank = first.rank() + usize::from(new_axis);
    let a = axis(
        ctx.int_opt("axis")?
            .ok_or_else(|| invalid!("attribute 'axis' is required"))?,
        rank,
    )?;
    let dev: Vec<Tensor> = s.items.iter().map(|t| ctx.t(t)).collect::<Result<_>>()?;
    let refs: Vec<&Tensor> = dev.iter().collect();
    let t = if new_axis {
        Tensor::stack(&refs, a as isize)?
    } else {
        Tensor::cat(&refs, a as isize)?
    };
    Ok(vec![Value::Tensor(tensor_value(t, s.elem)?)])
}

fn sequence_map(ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let body = ctx.graph("body")?;
    let n = i.sequence(0)?.items.len();
    let mut outs: Vec<Vec<TensorValue>> = vec![Vec::new(); body.outputs.len()];
    for k in 0..n {
        let args: Vec<Value> = (0..i.len())
            .map(|j| match i.value(j) {
                Some(Value::Sequence(s)) => s
                    .items
                    .get(k)
                    .cloned()
                    .map(Value::Tensor)
                    .ok_or_else(|| invalid!("input {j} is a sequence shorter than input 0")),
                Some(v) => Ok(v.clone()),
                None => Ok(Value::None),
            })
            .collect::<Result<_>>()?;
        for (o, v) in ctx.run_subgraph(&body, args)?.into_iter().enumerate() {
            match v {
                Value::Tensor(t) => outs[o].push(t),
                other => {
                    return Err(invalid!(
                        "the body gave {} where a tensor belongs",
                        other.kind()
                    ));
                }
            }
        }
    }
    outs.into_iter()
        .enumerate()
        .map(|(o, items)| {
            let elem = match items.first() {
                Some(t) => t.elem(),
                None => match body.outputs.get(o).map(|v| &v.ty) {
                    Some(ValueType::Tensor { elem, .. }) => ElemType::from_onnx(*elem)?,
                    _ => ElemType::Native(DType::F32),
                },
            };
            Ok(seq_value(elem, items))
        })
        .collect()
}

fn optional(_ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    Ok(vec![i.value(0).cloned().unwrap_or(Value::None)])
}

fn optional_has_element(_ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    let has = !matches!(i.value(0), None | Some(Value::None));
    Ok(vec![host_bool(has)?])
}

fn optional_get_element(_ctx: &OpCtx, i: &Inputs) -> Result<Vec<Value>> {
    match i.value(0) {
        None | Some(Value::None) => Err(invalid!("the optional is empty")),
        Some(v) => Ok(vec![v.clone()]),
    }
}
