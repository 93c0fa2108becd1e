//! What LOCAL and GROUP share: a kernel's workgroup (its `lidx` SPECIALs and the GroupReduce
//! ranges that become `lidx` when lowered) and the check that one more dimension fits the
//! target's workgroup limits. A workgroup thread is told apart by its `lidx{n}` SPECIALs,
//! numbered in the order the opts made them until `lower_groups` puts GROUP's first.

use uop_ir::{AxisType, Special, UOp, toposort};

use crate::Target;
use crate::ranges::ranges_of_kind;

/// The GroupReduce ranges of `ast`, in axis order.
pub(crate) fn group_ranges(ast: &UOp) -> Vec<UOp> {
    ranges_of_kind(ast, AxisType::GroupReduce)
}

/// The `lidx` SPECIALs of `ast`, by number.
pub(crate) fn workgroup(ast: &UOp) -> Vec<UOp> {
    let mut l: Vec<(usize, UOp)> = toposort(ast)
        .into_iter()
        .filter_map(|u| match u.special_kind() {
            Some(Special::Local(d)) => Some((usize::from(d), u.clone())),
            _ => None,
        })
        .collect();
    l.sort_by_key(|(n, _)| *n);
    l.into_iter().map(|(_, u)| u).collect()
}

/// The count of a SPECIAL or the extent of a RANGE (1 when not a constant).
pub(crate) fn size(u: &UOp) -> i64 {
    u.src()
        .first()
        .and_then(UOp::const_int)
        .map_or(1, |s| s as i64)
}

/// Checks that a new workgroup dimension of `amount` threads fits the target: in the
/// workgroup's size, in the count of dimensions, and in the limit of the dimension it
/// takes now (`lower_groups` renumbers the dimensions, GROUP's first, and checks the
/// final numbering again).
pub(crate) fn check_workgroup(ast: &UOp, amount: i64, target: &Target) -> Result<(), String> {
    if !target.has_workgroups() {
        return Err("the target has no workgroups".into());
    }
    let dims: Vec<i64> = workgroup(ast)
        .iter()
        .chain(&group_ranges(ast))
        .map(size)
        .collect();
    let threads = dims.iter().product::<i64>() * amount;
    let max = target.max_local_size;
    if threads > max as i64 {
        return Err(format!(
            "a workgroup of {threads} threads is over the target's {max}"
        ));
    }
    match target.max_local_dims.get(dims.len()) {
        None | Some(0) => Err(format!(
            "the target's workgroups have at most {} dimensions",
            dims.len()
        )),
        Some(&limit) if amount > i64::from(limit) => Err(format!(
            "{amount} threads in workgroup dimension {} is over the target's {limit}",
            dims.len()
        )),
        Some(_) => Ok(()),
    }
}

/// The `lidx{n}` SPECIAL of `count` threads.
pub(crate) fn lidx(n: usize, count: i64) -> UOp {
    UOp::special(Special::Local(n as u8), count)
}

/// The constant extent of `r` when `amount` (at least 2) divides it.
pub(crate) fn divisible(r: &UOp, amount: i64) -> Option<i64> {
    let n = r.src().first()?.const_int()? as i64;
    (amount >= 2 && n % amount == 0).then_some(n)
}
