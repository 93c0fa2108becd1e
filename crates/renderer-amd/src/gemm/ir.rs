//! The MFMA GEMM as LLVM IR lines: `Plan`'s index arithmetic emitted through `IrArith`
//! (constants folded, repeated expressions named once), then the `k` loop and the
//! epilogue (see the module doc of `gemm`).

use std::collections::HashMap;

use renderer_llvm::types::float_bits_literal;
use renderer_llvm::{KernelOperand, Line, Module};
use uop_ir::DType;

use super::layout::{Arith, ITEMS, Origin, Plan, Step, TILE, epilogue, stored_dtype};
use crate::mfma;

/// `Arith` as IR: `i64` instructions named `%{prefix}.i{n}`; integer literals fold.
#[derive(Debug)]
struct IrArith<'p> {
    prefix: &'p str,
    lines: Vec<Line>,
    named: HashMap<String, String>,
}

impl IrArith<'_> {
    fn emit(&mut self, instruction: String) -> String {
        if let Some(name) = self.named.get(&instruction) {
            return name.clone();
        }
        let name = format!("%{}.i{}", self.prefix, self.named.len());
        self.lines
            .push(Line::Ins(format!("{name} = {instruction}")));
        self.named.insert(instruction, name.clone());
        name
    }

    /// A fresh value name `%{prefix}.{what}`.
    fn name(&self, what: impl std::fmt::Display) -> String {
        format!("%{}.{what}", self.prefix)
    }

    fn ins(&mut self, text: String) {
        self.lines.push(Line::Ins(text));
    }
}

fn literal(v: &str) -> Option<i64> {
    v.parse().ok()
}

impl Arith for IrArith<'_> {
    type V = String;
    fn int(&mut self, c: i64) -> String {
        c.to_string()
    }
    fn add(&mut self, a: &String, b: &String) -> String {
        match (literal(a), literal(b)) {
            (Some(x), Some(y)) => (x + y).to_string(),
            (Some(0), _) => b.clone(),
            (_, Some(0)) => a.clone(),
            (Some(_), None) => self.emit(format!("add nuw nsw i64 {b}, {a}")),
            _ => self.emit(format!("add nuw nsw i64 {a}, {b}")),
        }
    }
    fn mul(&mut self, a: &String, c: i64) -> String {
        match (literal(a), c) {
            (Some(x), _) => (x * c).to_string(),
            (_, 0) => "0".into(),
            (_, 1) => a.clone(),
            _ => self.emit(format!("mul nuw nsw i64 {a}, {c}")),
        }
    }
    fn div(&mut self, a: &String, c: i64) -> String {
        match (literal(a), c) {
            (Some(x), _) => (x / c).to_string(),
            (_, 1) => a.clone(),
            _ => self.emit(format!("udiv i64 {a}, {c}")),
        }
    }
    fn rem(&mut self, a: &String, c: i64) -> String {
        match (literal(a), c) {
            (Some(x), _) => (x % c).to_string(),
            (_, 1) => "0".into(),
            _ => self.emit(format!("urem i64 {a}, {c}")),
        }
    }
}

/// The IR type of a narrow float in memory and in MFMA operands.
fn narrow_type(d: DType) -> &'static str {
    if d == DType::BF16 { "bfloat" } else { "half" }
}

fn memory_type(d: DType) -> &'static str {
    if d == DType::F32 {
        "float"
    } else {
        narrow_type(d)
    }
}

/// The lines of the GEMM of `plan` over `src` = [C, A, B, gidx0, gidx1, gidx2, lidx0].
pub fn lines(
    plan: &Plan,
    prefix: &str,
    src: &[KernelOperand],
    module: &mut Module,
) -> Result<Vec<Line>, String> {
    let g = plan.g;
    let [c, a, b, col_block, row_block, batch, tid] = src else {
        return Err(format!(
            "a GEMM takes C, A, B and four launch indices, got {} sources",
            src.len()
        ));
    };
    let buffer = |what: &str, op: &KernelOperand, want: DType| match op {
        KernelOperand::Buffer { ptr, dtype } if *dtype == want => Ok(ptr.clone()),
        other => Err(format!("{what} must be a buffer of {want}, got {other:?}")),
    };
    let index = |op: &KernelOperand| match op {
        KernelOperand::Index(v) => Ok(v.clone()),
        other => Err(format!("a launch index expected, got {other:?}")),
    };
    let (pc, pa, pb) = (
        buffer("C", c, stored_dtype(g))?,
        buffer("A", a, g.dtype_in)?,
        buffer("B", b, g.dtype_in)?,
    );
    let [col_block, row_block, batch, tid] = [col_block, row_block, batch, tid].map(index);
    let (col_block, row_block, batch, tid) = (col_block?, row_block?, batch?, tid?);
    let instruction = mfma::for_dtype(g.dtype_in)
        .ok_or_else(|| format!("no MFMA instruction takes {}", g.dtype_in))?;

    let mut ir = IrArith {
        prefix,
        lines: Vec::new(),
        named: HashMap::new(),
    };
    let (pre, body, done) = (
        format!("{prefix}.pre"),
        format!("{prefix}.k"),
        format!("{prefix}.done"),
    );
    ir.ins(format!("br label %{pre}"));
    ir.lines.push(Line::Label(pre.clone()));
    let [a_base, b_base, c_base] = plan.batch_offsets(&mut ir, &batch);
    let o = plan.origin(&mut ir, &col_block, &row_block, &tid);
    ir.ins(format!("br label %{body}"));

    // the k loop: one block, the accumulators and k0 as phis
    ir.lines.push(Line::Label(body.clone()));
    let k0 = ir.name("k0");
    let tiles: Vec<(i64, i64)> = (0..plan.tiles_m)
        .flat_map(|i| (0..plan.tiles_n).map(move |j| (i, j)))
        .collect();
    let acc = |ir: &IrArith, (i, j): (i64, i64)| ir.name(format_args!("acc{i}_{j}"));
    let sum = |ir: &IrArith, (i, j): (i64, i64)| ir.name(format_args!("d{i}_{j}"));
    ir.ins(format!(
        "{k0} = phi i64 [ 0, %{pre} ], [ {k0}.next, %{body} ]"
    ));
    for &t in &tiles {
        ir.ins(format!(
            "{} = phi <4 x float> [ zeroinitializer, %{pre} ], [ {}, %{body} ]",
            acc(&ir, t),
            sum(&ir, t)
        ));
    }
    let ty = narrow_type(g.dtype_in);
    let fragment = |ir: &mut IrArith, tag: String, ptr: &str, offsets: Vec<String>| {
        let mut v = "poison".to_string();
        for (item, off) in offsets.iter().enumerate() {
            let (p, x, next) = (
                ir.name(format_args!("{tag}p{item}")),
                ir.name(format_args!("{tag}x{item}")),
                ir.name(format_args!("{tag}v{item}")),
            );
            ir.ins(format!(
                "{p} = getelementptr inbounds {ty}, ptr addrspace(1) {ptr}, i64 {off}"
            ));
            ir.ins(format!("{x} = load {ty}, ptr addrspace(1) {p}, align 2"));
            ir.ins(format!(
                "{next} = insertelement <4 x {ty}> {v}, {ty} {x}, i64 {item}"
            ));
            v = next;
        }
        v
    };
    let mut a_frag = Vec::new();
    for i in 0..plan.tiles_m {
        let offs = (0..ITEMS)
            .map(|item| plan.a_offset(&mut ir, &a_base, &o, i, &k0, item))
            .collect();
        a_frag.push(fragment(&mut ir, format!("a{i}"), &pa, offs));
    }
    let mut b_frag = Vec::new();
    for j in 0..plan.tiles_n {
        let offs = (0..ITEMS)
            .map(|item| plan.b_offset(&mut ir, &b_base, &o, j, &k0, item))
            .collect();
        b_frag.push(fragment(&mut ir, format!("b{j}"), &pb, offs));
    }
    for &(i, j) in &tiles {
        let (d, c) = (sum(&ir, (i, j)), acc(&ir, (i, j)));
        let mut call = Vec::new();
        let ta = instruction.operand(&d, "a", &a_frag[i as usize], &mut call);
        let tb = instruction.operand(&d, "b", &b_frag[j as usize], &mut call);
        call.push(instruction.call(&d, &ta, &tb, &c, module));
        for l in call {
            ir.ins(l);
        }
    }
    let more = ir.name("more");
    ir.ins(format!("{k0}.next = add nuw nsw i64 {k0}, {TILE}"));
    ir.ins(format!("{more} = icmp slt i64 {k0}.next, {}", g.k));
    ir.ins(format!("br i1 {more}, label %{body}, label %{done}"));

    ir.lines.push(Line::Label(done));
    store_tiles(&mut ir, plan, &o, &c_base, &pc, &tiles)?;
    Ok(ir.lines)
}

/// The epilogue: each accumulator value scaled and rounded as the program does, stored
/// to C.
fn store_tiles(
    ir: &mut IrArith,
    plan: &Plan,
    o: &Origin<String>,
    c_base: &str,
    pc: &str,
    tiles: &[(i64, i64)],
) -> Result<(), String> {
    let g = plan.g;
    let steps = epilogue(g);
    let stored = stored_dtype(g);
    let c_base = c_base.to_string();
    for &(i, j) in tiles {
        let d = ir.name(format_args!("d{i}_{j}"));
        for item in 0..ITEMS {
            let tag = format!("c{i}_{j}_{item}");
            let mut v = ir.name(format_args!("{tag}"));
            ir.ins(format!("{v} = extractelement <4 x float> {d}, i64 {item}"));
            let mut narrow = None;
            for (s, step) in steps.iter().enumerate() {
                let next = ir.name(format_args!("{tag}s{s}"));
                match *step {
                    Step::Scale(alpha) => {
                        let c = float_bits_literal(f64::from(alpha));
                        ir.ins(format!("{next} = fmul float {v}, {c}"));
                        v = next;
                    }
                    Step::Round(dt) => {
                        let t = narrow_type(dt);
                        ir.ins(format!("{next}.r = fptrunc float {v} to {t}"));
                        if s + 1 == steps.len() && stored == dt {
                            // the last rounding is what C holds
                            narrow = Some(format!("{next}.r"));
                            break;
                        }
                        ir.ins(format!("{next} = fpext {t} {next}.r to float"));
                        v = next;
                    }
                }
            }
            let value = match narrow {
                Some(r) => r,
                None if stored == DType::F32 => v,
                None => return Err(format!("C of {stored} from a {} result", g.dtype_out)),
            };
            let off = plan.c_offset(ir, &c_base, o, (i, j), item);
            let (mt, p) = (memory_type(stored), ir.name(format_args!("{tag}p")));
            ir.ins(format!(
                "{p} = getelementptr inbounds {mt}, ptr addrspace(1) {pc}, i64 {off}"
            ));
            ir.ins(format!(
                "store {mt} {value}, ptr addrspace(1) {p}, align {}",
                stored.itemsize()
            ));
        }
    }
    Ok(())
}
