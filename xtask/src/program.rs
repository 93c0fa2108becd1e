//! Random tensor programs for `fuzz-kernels`: a few input tensors and a DAG of steps over
//! them (movement chains, elementwise ops, reductions, broadcasts of reduction results),
//! with one or two nodes to realize.
//!
//! A program is a pure function of its seed ([`cases::case_seed`] of the run's seed and the
//! case index), so any case replays alone. Input shapes come from `fuzz-symbolic`'s shape
//! generator and movement chains from its chain generator. Input data are integers in
//! `-4..=4` without 0, and every op is picked so that no value or partial sum can leave
//! `±2^24` ([`EXACT`]): all results are exact in f32 whatever the summation order, so the
//! comparison with the interpreter is exact.

use std::fmt;

use symbolic::corpus::{Entropy, SplitMix};
use uop_ir::{Movement, checked_numel};

use crate::cases;

/// Largest magnitude a value (or partial sum) may reach: integers up to this are exact in f32.
pub const EXACT: f64 = 16_777_216.0;
const MIN_STEPS: u64 = 3;
const MAX_STEPS: u64 = 12;
const MAX_INPUTS: u64 = 3;
const MAX_MOVES: u64 = 4;
const MAX_INPUT_VALUE: u64 = 4;
/// Steps drawn per program before giving up on reaching the drawn length.
const ATTEMPTS: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Maximum,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Relu,
    /// `maximum(x, c)` with a scalar constant.
    MaxConst(i32),
    MulScalar(i32),
    AddScalar(i32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedOp {
    Sum,
    Max,
}

/// One node of a program; operands are indices of earlier nodes.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// A tensor from data (row-major).
    Input {
        shape: Vec<i64>,
        data: Vec<f32>,
    },
    Move {
        src: usize,
        chain: Vec<Movement>,
    },
    /// Both operands have the same shape.
    Binary {
        op: BinOp,
        a: usize,
        b: usize,
    },
    Unary {
        op: UnOp,
        src: usize,
    },
    /// `axes` sorted, distinct, non-empty.
    Reduce {
        op: RedOp,
        src: usize,
        axes: Vec<usize>,
        keepdim: bool,
    },
}

impl Node {
    pub fn operands(&self) -> Vec<usize> {
        match self {
            Node::Input { .. } => vec![],
            Node::Move { src, .. } | Node::Unary { src, .. } | Node::Reduce { src, .. } => {
                vec![*src]
            }
            Node::Binary { a, b, .. } => vec![*a, *b],
        }
    }

    fn operands_mut(&mut self) -> Vec<&mut usize> {
        match self {
            Node::Input { .. } => vec![],
            Node::Move { src, .. } | Node::Unary { src, .. } | Node::Reduce { src, .. } => {
                vec![src]
            }
            Node::Binary { a, b, .. } => vec![a, b],
        }
    }

    /// The output shape given the shapes of the earlier nodes.
    pub fn shape(&self, shapes: &[Vec<i64>]) -> Result<Vec<i64>, String> {
        let of = |i: usize| {
            shapes
                .get(i)
                .cloned()
                .ok_or_else(|| format!("operand t{i} is not an earlier node"))
        };
        match self {
            Node::Input { shape, data } => {
                let n = checked_numel(shape).map_err(|e| e.to_string())?;
                if n as usize != data.len() {
                    return Err(format!(
                        "input of shape {shape:?} has {} values",
                        data.len()
                    ));
                }
                Ok(shape.clone())
            }
            Node::Move { src, chain } => {
                let mut s = of(*src)?;
                for m in chain {
                    s = m.output_shape(&s).map_err(|e| format!("{m}: {e}"))?;
                }
                Ok(s)
            }
            Node::Binary { a, b, .. } => {
                let (sa, sb) = (of(*a)?, of(*b)?);
                if sa != sb {
                    return Err(format!("binary operands of shapes {sa:?} and {sb:?}"));
                }
                Ok(sa)
            }
            Node::Unary { src, .. } => of(*src),
            Node::Reduce {
                src, axes, keepdim, ..
            } => {
                let s = of(*src)?;
                if axes.is_empty() || axes.iter().any(|&a| a >= s.len()) {
                    return Err(format!("reduce axes {axes:?} of shape {s:?}"));
                }
                Ok(reduced_shape(&s, axes, *keepdim))
            }
        }
    }
}

/// `shape` with `axes` set to 1 (`keepdim`) or dropped.
pub fn reduced_shape(shape: &[i64], axes: &[usize], keepdim: bool) -> Vec<i64> {
    shape
        .iter()
        .enumerate()
        .filter_map(|(i, &d)| match (axes.contains(&i), keepdim) {
            (false, _) => Some(d),
            (true, true) => Some(1),
            (true, false) => None,
        })
        .collect()
}

/// The nodes and the indices of the nodes realized together at the end.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    pub nodes: Vec<Node>,
    pub outputs: Vec<usize>,
}

impl Program {
    /// The shape of every node, or why the program is malformed.
    pub fn shapes(&self) -> Result<Vec<Vec<i64>>, String> {
        let mut shapes = Vec::with_capacity(self.nodes.len());
        for (i, n) in self.nodes.iter().enumerate() {
            let s = n.shape(&shapes).map_err(|e| format!("t{i}: {e}"))?;
            shapes.push(s);
        }
        if self.outputs.is_empty() || self.outputs.iter().any(|&o| o >= self.nodes.len()) {
            return Err(format!("bad outputs {:?}", self.outputs));
        }
        Ok(shapes)
    }

    /// Which nodes the outputs depend on.
    pub fn live(&self) -> Vec<bool> {
        let mut live = vec![false; self.nodes.len()];
        for &o in &self.outputs {
            live[o] = true;
        }
        for i in (0..self.nodes.len()).rev() {
            if live[i] {
                for s in self.nodes[i].operands() {
                    live[s] = true;
                }
            }
        }
        live
    }

    /// How many live nodes have more than one live consumer (being an output counts as
    /// one; `x.add(x)` is one consumer).
    pub fn multi_consumer_nodes(&self) -> usize {
        let live = self.live();
        let mut uses = vec![0usize; self.nodes.len()];
        for (i, n) in self.nodes.iter().enumerate() {
            if live[i] {
                let mut ops = n.operands();
                ops.dedup();
                for s in ops {
                    uses[s] += 1;
                }
            }
        }
        for &o in &self.outputs {
            uses[o] += 1;
        }
        uses.iter().filter(|&&u| u > 1).count()
    }

    /// The program without the nodes no output depends on, renumbered.
    pub fn without_dead(&self) -> Program {
        let live = self.live();
        let mut new_index = vec![usize::MAX; self.nodes.len()];
        let mut nodes = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            if !live[i] {
                continue;
            }
            let mut n = n.clone();
            for s in n.operands_mut() {
                *s = new_index[*s];
            }
            new_index[i] = nodes.len();
            nodes.push(n);
        }
        let mut outputs: Vec<usize> = self.outputs.iter().map(|&o| new_index[o]).collect();
        outputs.dedup();
        Program { nodes, outputs }
    }

    /// The program with every use of node `from` (operand or output) replaced by `to`.
    pub fn replace_uses(&self, from: usize, to: usize) -> Program {
        let mut p = self.clone();
        for n in p.nodes.iter_mut().skip(from + 1) {
            for s in n.operands_mut() {
                if *s == from {
                    *s = to;
                }
            }
        }
        for o in &mut p.outputs {
            if *o == from {
                *o = to;
            }
        }
        p
    }
}

impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shapes = self.shapes().ok();
        for (i, n) in self.nodes.iter().enumerate() {
            write!(f, "  t{i} = ")?;
            match n {
                Node::Input { shape, .. } => write!(f, "input{shape:?}")?,
                Node::Move { src, chain } => {
                    write!(f, "t{src}")?;
                    for m in chain {
                        write!(f, ".{m}")?;
                    }
                }
                Node::Binary { op, a, b } => {
                    let name = match op {
                        BinOp::Add => "add",
                        BinOp::Sub => "sub",
                        BinOp::Mul => "mul",
                        BinOp::Maximum => "maximum",
                    };
                    write!(f, "t{a}.{name}(t{b})")?;
                }
                Node::Unary { op, src } => match op {
                    UnOp::Neg => write!(f, "t{src}.neg()")?,
                    UnOp::Relu => write!(f, "t{src}.relu()")?,
                    UnOp::MaxConst(c) => write!(f, "t{src}.maximum({c})")?,
                    UnOp::MulScalar(c) => write!(f, "t{src}.mul_scalar({c})")?,
                    UnOp::AddScalar(c) => write!(f, "t{src}.add_scalar({c})")?,
                },
                Node::Reduce {
                    op,
                    src,
                    axes,
                    keepdim,
                } => {
                    let name = match op {
                        RedOp::Sum => "sum",
                        RedOp::Max => "max",
                    };
                    write!(f, "t{src}.{name}({axes:?}, keepdim={keepdim})")?;
                }
            }
            if let Some(s) = shapes.as_ref().and_then(|s| s.get(i)) {
                write!(f, "    # {s:?}")?;
            }
            writeln!(f)?;
        }
        let outs: Vec<String> = self.outputs.iter().map(|o| format!("t{o}")).collect();
        write!(f, "  realize_all([{}])", outs.join(", "))
    }
}

/// A node being built: its shape and a bound on the magnitude of its values.
struct Gen {
    rng: SplitMix,
    nodes: Vec<Node>,
    shapes: Vec<Vec<i64>>,
    bounds: Vec<f64>,
    /// For each reduce node, its source (to broadcast the result back onto).
    reduces: Vec<usize>,
}

impl Gen {
    fn push(&mut self, node: Node, bound: f64) -> Option<usize> {
        let shape = node.shape(&self.shapes).ok()?;
        if checked_numel(&shape).ok()? > cases::MAX_ELEMENTS || bound > EXACT {
            return None;
        }
        self.nodes.push(node);
        self.shapes.push(shape);
        self.bounds.push(bound);
        Some(self.nodes.len() - 1)
    }

    fn below(&mut self, n: usize) -> usize {
        self.rng.below(n as u64) as usize
    }

    /// A node to work on: the newest one 40% of the time, one nothing uses yet 40% (so
    /// that little of the program is dead), else any.
    fn pick(&mut self) -> usize {
        let n = self.nodes.len();
        match self.rng.below(5) {
            0 | 1 => n - 1,
            2 | 3 => {
                let unused = self.unused();
                if unused.is_empty() {
                    self.below(n)
                } else {
                    unused[self.below(unused.len())]
                }
            }
            _ => self.below(n),
        }
    }

    /// The nodes no other node uses.
    fn unused(&self) -> Vec<usize> {
        let mut used = vec![false; self.nodes.len()];
        for n in &self.nodes {
            for s in n.operands() {
                used[s] = true;
            }
        }
        (0..self.nodes.len()).filter(|&i| !used[i]).collect()
    }

    fn input(&mut self, shape: Vec<i64>) -> usize {
        let n = shape.iter().product::<i64>() as usize;
        let data = (0..n)
            .map(|_| {
                let v = 1 + self.rng.below(MAX_INPUT_VALUE) as i32;
                (if self.rng.below(2) == 0 { v } else { -v }) as f32
            })
            .collect();
        self.nodes.push(Node::Input {
            shape: shape.clone(),
            data,
        });
        self.shapes.push(shape);
        self.bounds.push(MAX_INPUT_VALUE as f64);
        self.nodes.len() - 1
    }

    /// A random movement chain on `src` (a rank-0 source is reshaped to `[1]` first).
    fn movement(&mut self, src: usize) -> Option<usize> {
        let shape = self.shapes[src].clone();
        let mut chain = Vec::new();
        let start = if shape.is_empty() {
            chain.push(Movement::Reshape(vec![1]));
            vec![1]
        } else {
            shape
        };
        let (more, _) = cases::random_chain(&mut self.rng, &start, MAX_MOVES);
        chain.extend(more);
        let bound = self.bounds[src];
        self.push(Node::Move { src, chain }, bound)
    }

    fn unary(&mut self, src: usize) -> Option<usize> {
        let b = self.bounds[src];
        let c = 1 + self.rng.below(3) as i32;
        let c = if self.rng.below(2) == 0 { c } else { -c };
        let (op, bound) = match self.rng.below(5) {
            0 => (UnOp::Neg, b),
            1 => (UnOp::Relu, b),
            2 => (UnOp::MaxConst(c), b.max(f64::from(c.abs()))),
            3 => (UnOp::MulScalar(c), b * f64::from(c.abs())),
            _ => (UnOp::AddScalar(c), b + f64::from(c.abs())),
        };
        self.push(Node::Unary { op, src }, bound)
    }

    /// `a op b`, where `b` is a node of `a`'s shape, or one brought to it by a reshape or
    /// a broadcast (reshape + expand), or `a` flipped.
    fn binary(&mut self, a: usize) -> Option<usize> {
        let shape = self.shapes[a].clone();
        let numel: i64 = shape.iter().product();
        let mut same = Vec::new();
        let mut bring = Vec::new();
        for (i, s) in self.shapes.iter().enumerate() {
            if *s == shape {
                same.push(i);
            } else if let Some(chain) = bring_to(s, &shape, numel) {
                bring.push((i, chain));
            }
        }
        let b = match self.rng.below(4) {
            0 | 1 if !bring.is_empty() => {
                let (i, chain) = bring[self.below(bring.len())].clone();
                let bound = self.bounds[i];
                self.push(Node::Move { src: i, chain }, bound)?
            }
            0 if !shape.is_empty() => {
                let flags: Vec<bool> = loop {
                    let f: Vec<bool> = (0..shape.len()).map(|_| self.rng.below(2) == 0).collect();
                    if f.iter().any(|&x| x) {
                        break f;
                    }
                };
                let bound = self.bounds[a];
                self.push(
                    Node::Move {
                        src: a,
                        chain: vec![Movement::Flip(flags)],
                    },
                    bound,
                )?
            }
            _ => same[self.below(same.len())],
        };
        self.combine(a, b)
    }

    /// A random binary op of `a` and `b` (same shape) that keeps values exact.
    fn combine(&mut self, a: usize, b: usize) -> Option<usize> {
        let (ba, bb) = (self.bounds[a], self.bounds[b]);
        let mut op = [BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Maximum][self.below(4)];
        if op == BinOp::Mul && ba * bb > EXACT / 4.0 {
            op = BinOp::Add;
        }
        let bound = match op {
            BinOp::Add | BinOp::Sub => ba + bb,
            BinOp::Mul => ba * bb,
            BinOp::Maximum => ba.max(bb),
        };
        let (a, b) = if self.rng.below(2) == 0 {
            (a, b)
        } else {
            (b, a)
        };
        self.push(Node::Binary { op, a, b }, bound)
    }

    fn reduce(&mut self, src: usize) -> Option<usize> {
        let shape = self.shapes[src].clone();
        if shape.is_empty() {
            return None;
        }
        let mut axes: Vec<usize> = (0..shape.len())
            .filter(|_| self.rng.below(2) == 0)
            .collect();
        if axes.is_empty() {
            axes.push(self.below(shape.len()));
        }

        let op = if self.rng.below(2) == 0 {
            RedOp::Sum
        } else {
            RedOp::Max
        };
        let count: i64 = axes.iter().map(|&a| shape[a]).product();
        let bound = match op {
            RedOp::Sum => self.bounds[src] * count as f64,
            RedOp::Max => self.bounds[src],
        };
        let keepdim = self.rng.below(2) == 0;
        let r = self.push(
            Node::Reduce {
                op,
                src,
                axes,
                keepdim,
            },
            bound,
        )?;
        self.reduces.push(r);
        Some(r)
    }

    /// A reduction's result broadcast back to its source's shape and combined with the
    /// source (`x - x.sum(axes, keepdim)`-like): makes the source a multi-consumer node.
    fn broadcast_back(&mut self) -> Option<usize> {
        let r = if self.reduces.is_empty() || self.rng.below(3) == 0 {
            let src = self.pick();
            self.reduce(src)?
        } else {
            let k = self.below(self.reduces.len());
            self.reduces[k]
        };
        let Node::Reduce {
            src, axes, keepdim, ..
        } = self.nodes[r].clone()
        else {
            return None;
        };
        let target = self.shapes[src].clone();
        let mut chain = Vec::new();
        if !keepdim {
            chain.push(Movement::Reshape(reduced_shape(&target, &axes, true)));
        }
        chain.push(Movement::Expand(target));
        let bound = self.bounds[r];
        let back = self.push(Node::Move { src: r, chain }, bound)?;
        self.combine(src, back)
    }

    /// `a @ b` over `a`'s last axis: `a` flattened to `[m, k]`, a new input `b` of
    /// `[k, n]` (or `[n, k]`, read transposed), both broadcast to `[m, n, k]`, multiplied
    /// and summed over `k`. With `n >= 16` the rows of `b` are a cache line apart, which is
    /// what the CPU heuristics pack into scratch.
    fn matmul(&mut self, a: usize) -> Option<usize> {
        let shape = self.shapes[a].clone();
        let k = *shape.last()?;
        let m = shape.iter().product::<i64>() / k.max(1);
        // 67: no lane count divides it, so the heuristics pad it into masked vectors
        let n = [3, 16, 24, 32, 67][self.below(5)];
        let full = vec![m, n, k];
        let bound_a = self.bounds[a];
        let a2 = self.push(
            Node::Move {
                src: a,
                chain: vec![
                    Movement::Reshape(vec![m, 1, k]),
                    Movement::Expand(full.clone()),
                ],
            },
            bound_a,
        )?;
        let transposed = self.rng.below(3) == 0;
        let b = self.input(if transposed { vec![n, k] } else { vec![k, n] });
        let mut chain = Vec::new();
        if !transposed {
            chain.push(Movement::Permute(vec![1, 0]));
        }
        chain.extend([Movement::Reshape(vec![1, n, k]), Movement::Expand(full)]);
        let bound_b = self.bounds[b];
        let b2 = self.push(Node::Move { src: b, chain }, bound_b)?;
        let prod = self.push(
            Node::Binary {
                op: BinOp::Mul,
                a: a2,
                b: b2,
            },
            bound_a * bound_b,
        )?;
        let r = self.push(
            Node::Reduce {
                op: RedOp::Sum,
                src: prod,
                axes: vec![2],
                keepdim: false,
            },
            bound_a * bound_b * k as f64,
        )?;
        self.reduces.push(r);
        Some(r)
    }

    fn step(&mut self) -> Option<usize> {
        match self.rng.below(22) {
            20 => {
                let a = self.pick();
                self.matmul(a)
            }
            21 => {
                // a fresh left operand with rows enough that the heuristics tile and pack
                let (m, k) = ([16, 20, 32][self.below(3)], 2 + self.below(7) as i64);
                let a = self.input(vec![m, k]);
                self.matmul(a)
            }
            0..=4 => {
                let src = self.pick();
                self.movement(src)
            }
            5..=7 => {
                let src = self.pick();
                self.unary(src)
            }
            8..=12 => {
                let a = self.pick();
                self.binary(a)
            }
            13..=16 => {
                let src = self.pick();
                self.reduce(src)
            }
            _ => self.broadcast_back(),
        }
    }
}

/// A chain that turns a tensor of shape `from` into one of shape `to` (`numel` elements),
/// if a reshape or a numpy broadcast does it.
fn bring_to(from: &[i64], to: &[i64], numel: i64) -> Option<Vec<Movement>> {
    if from.iter().product::<i64>() == numel {
        return Some(vec![Movement::Reshape(to.to_vec())]);
    }
    if from.len() > to.len() {
        return None;
    }
    let mut padded = vec![1i64; to.len() - from.len()];
    padded.extend_from_slice(from);
    if padded.iter().zip(to).any(|(p, t)| p != t && *p != 1) {
        return None;
    }
    let mut chain = Vec::new();
    if padded != from {
        chain.push(Movement::Reshape(padded));
    }
    chain.push(Movement::Expand(to.to_vec()));
    Some(chain)
}

/// The program of `case_seed(seed, index)`.
pub fn random_program(seed: u64, index: u64) -> Program {
    let mut g = Gen {
        rng: SplitMix(cases::case_seed(seed, index) ^ 0x6b65_726e_656c_7321),
        nodes: Vec::new(),
        shapes: Vec::new(),
        bounds: Vec::new(),
        reduces: Vec::new(),
    };
    let base = cases::random_shape(&mut g.rng);
    g.input(base.clone());
    let inputs = 1 + g.rng.below(MAX_INPUTS);
    for _ in 1..inputs {
        let shape = match g.rng.below(4) {
            0 | 1 => base.clone(),
            2 => {
                // a shape that broadcasts to the base: a suffix with some dims set to 1
                let keep = 1 + g.below(base.len());
                base[base.len() - keep..]
                    .iter()
                    .map(|&d| if g.rng.below(3) == 0 { 1 } else { d })
                    .collect()
            }
            _ => cases::random_shape(&mut g.rng),
        };
        g.input(shape);
    }
    let first_step = g.nodes.len();
    let want = (MIN_STEPS + g.rng.below(MAX_STEPS - MIN_STEPS + 1)) as usize;
    for _ in 0..ATTEMPTS {
        if g.nodes.len() - first_step >= want {
            break;
        }
        g.step();
    }
    if g.nodes.len() == first_step {
        // nothing fit (cannot really happen): negate the first input
        g.push(
            Node::Unary {
                op: UnOp::Neg,
                src: 0,
            },
            g.bounds[0],
        );
    }
    // the newest node, and half of the time a second one: a step nothing uses (when there
    // is one, two times in three), else any step (maybe one the first output needs)
    let last = g.nodes.len() - 1;
    let mut outputs = vec![last];
    if g.rng.below(2) == 0 && last > first_step {
        let unused: Vec<usize> = g
            .unused()
            .into_iter()
            .filter(|&i| i >= first_step && i != last)
            .collect();
        let other = if !unused.is_empty() && g.rng.below(3) != 0 {
            unused[g.below(unused.len())]
        } else {
            first_step + g.below(last - first_step)
        };
        outputs.push(other);
    }
    Program {
        nodes: g.nodes,
        outputs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_replay_and_fit() {
        for i in 0..300 {
            let p = random_program(5, i);
            assert_eq!(p, random_program(5, i));
            let shapes = p.shapes().expect("well formed");
            for s in &shapes {
                assert!(checked_numel(s).expect("positive") <= cases::MAX_ELEMENTS);
            }
            assert!(p.nodes.len() >= 4, "{p}");
        }
    }

    #[test]
    fn dead_nodes_go() {
        let p = Program {
            nodes: vec![
                Node::Input {
                    shape: vec![2],
                    data: vec![1.0, 2.0],
                },
                Node::Unary {
                    op: UnOp::Neg,
                    src: 0,
                },
                Node::Unary {
                    op: UnOp::Relu,
                    src: 0,
                },
            ],
            outputs: vec![2],
        };
        let q = p.without_dead();
        assert_eq!(q.nodes.len(), 2);
        assert_eq!(q.outputs, vec![1]);
        assert!(q.shapes().is_ok());
    }
}
