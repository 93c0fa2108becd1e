//! The memory planner: temporaries (buffers that only live inside one schedule, or inside
//! a captured launch list) share allocations when their lifetimes (first writer to last
//! reader) do not overlap. Greedy, in order of first use: a temporary takes the smallest
//! free allocation that fits, else a new one (`share`). Reports the bytes planned.

use std::collections::HashMap;

use rangeify::Kernel;
use uop_ir::{Arg, UOp};

/// Where each temporary lives.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Temporary buffer -> allocation index.
    pub slot: HashMap<UOp, usize>,
    /// Bytes of each allocation.
    pub sizes: Vec<usize>,
    /// Bytes without sharing.
    pub unshared_bytes: usize,
}

impl Plan {
    pub fn planned_bytes(&self) -> usize {
        self.sizes.iter().sum()
    }
}

/// Bytes of a BUFFER node.
pub fn bytes_of(buffer: &UOp) -> usize {
    match buffer.arg() {
        Arg::Buffer { size, .. } => size * buffer.dtype().itemsize(),
        _ => 0,
    }
}

pub fn plan(kernels: &[Kernel], temporaries: &[UOp]) -> Plan {
    let mut first: HashMap<&UOp, usize> = HashMap::new();
    let mut last: HashMap<&UOp, usize> = HashMap::new();
    for (i, k) in kernels.iter().enumerate() {
        for b in &k.buffers {
            first.entry(b).or_insert(i);
            last.insert(b, i);
        }
    }
    let used: Vec<&UOp> = temporaries
        .iter()
        .filter(|t| first.contains_key(t))
        .collect();
    let lifetimes: Vec<Lifetime> = used
        .iter()
        .map(|t| Lifetime {
            first: first[t],
            last: last[t],
            bytes: bytes_of(t),
        })
        .collect();
    let shared = share(&lifetimes);
    Plan {
        slot: used.into_iter().cloned().zip(shared.allocation).collect(),
        sizes: shared.sizes,
        unshared_bytes: lifetimes.iter().map(|l| l.bytes).sum(),
    }
}

/// When a buffer is used: from the step that writes it first to the last that reads it
/// (steps of a schedule, or launches of a captured list), and its size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifetime {
    pub first: usize,
    pub last: usize,
    pub bytes: usize,
}

/// Buffers placed in shared allocations.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Shared {
    /// The allocation of each buffer, in the order given.
    pub allocation: Vec<usize>,
    /// The bytes of each allocation.
    pub sizes: Vec<usize>,
}

/// Places buffers with these lifetimes in allocations, two sharing one only when their
/// lifetimes do not overlap: in order of first use, each takes the smallest free
/// allocation that fits, else a new one.
pub fn share(lifetimes: &[Lifetime]) -> Shared {
    let mut order: Vec<usize> = (0..lifetimes.len()).collect();
    order.sort_by_key(|&i| (lifetimes[i].first, lifetimes[i].last));
    let mut out = Shared {
        allocation: vec![0; lifetimes.len()],
        sizes: Vec::new(),
    };
    // the last step using each allocation so far
    let mut busy_until: Vec<usize> = Vec::new();
    for i in order {
        let Lifetime { first, last, bytes } = lifetimes[i];
        let reuse = (0..out.sizes.len())
            .filter(|a| busy_until[*a] < first && out.sizes[*a] >= bytes)
            .min_by_key(|a| out.sizes[*a]);
        let a = match reuse {
            Some(a) => a,
            None => {
                out.sizes.push(bytes);
                busy_until.push(0);
                out.sizes.len() - 1
            }
        };
        busy_until[a] = last;
        out.allocation[i] = a;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use uop_ir::{DType, UOp};

    fn kernel(bufs: &[&UOp]) -> Kernel {
        Kernel {
            ast: UOp::int(0),
            buffers: bufs.iter().map(|b| (*b).clone()).collect(),
        }
    }

    #[test]
    fn disjoint_lifetimes_share() {
        let (a, b, c, out) = (
            UOp::new_buffer(DType::F32, 16, "CPU"),
            UOp::new_buffer(DType::F32, 16, "CPU"),
            UOp::new_buffer(DType::F32, 8, "CPU"),
            UOp::new_buffer(DType::F32, 16, "CPU"),
        );
        // k0 writes a; k1 reads a writes b; k2 reads b writes c; k3 reads c writes out
        let ks = [
            kernel(&[&a]),
            kernel(&[&b, &a]),
            kernel(&[&c, &b]),
            kernel(&[&out, &c]),
        ];
        let p = plan(&ks, &[a.clone(), b.clone(), c.clone()]);
        assert_eq!(p.unshared_bytes, 160);
        assert_eq!(p.slot[&a], p.slot[&c], "a is dead when c is written");
        assert_ne!(p.slot[&a], p.slot[&b]);
        assert_eq!(p.planned_bytes(), 128);
    }

    #[test]
    fn overlapping_lifetimes_never_share() {
        let l = |first, last, bytes| Lifetime { first, last, bytes };
        let lifetimes = [l(0, 2, 64), l(1, 3, 64), l(3, 4, 32), l(5, 5, 128)];
        let s = share(&lifetimes);
        for i in 0..lifetimes.len() {
            for j in 0..i {
                let (a, b) = (lifetimes[i], lifetimes[j]);
                if a.first <= b.last && b.first <= a.last {
                    assert_ne!(s.allocation[i], s.allocation[j], "{i} and {j} overlap");
                }
            }
            assert!(s.sizes[s.allocation[i]] >= lifetimes[i].bytes);
        }
        assert_eq!(
            s.allocation[2], s.allocation[0],
            "the first is free by step 3"
        );
        assert_eq!(s.sizes, vec![64, 64, 128]);
    }
}
