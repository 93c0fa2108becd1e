//! The memory planner: temporaries (buffers that only live inside one schedule) share
//! allocations when their lifetimes (first writer to last reader) do not overlap. Greedy,
//! in schedule order: a temporary takes the smallest free allocation that fits, else a new
//! one. Reports the peak bytes held at once.

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
    let mut order: Vec<&UOp> = temporaries
        .iter()
        .filter(|t| first.contains_key(t))
        .collect();
    order.sort_by_key(|t| (first[t], last[t]));
    let mut out = Plan::default();
    // (allocation, free from kernel index)
    let mut busy_until: Vec<usize> = Vec::new();
    for t in order {
        let need = bytes_of(t);
        out.unshared_bytes += need;
        let start = first[t];
        let reuse = (0..out.sizes.len())
            .filter(|a| busy_until[*a] < start && out.sizes[*a] >= need)
            .min_by_key(|a| out.sizes[*a]);
        let a = match reuse {
            Some(a) => a,
            None => {
                out.sizes.push(need);
                busy_until.push(0);
                out.sizes.len() - 1
            }
        };
        busy_until[a] = last[t];
        out.slot.insert(t.clone(), a);
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
}
