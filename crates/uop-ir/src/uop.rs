//! `UOp`: an immutable, hash-consed node. Building the same `(op, dtype, src, arg)` twice
//! returns the same node, so equality and hashing are pointer operations. Nodes live in a
//! sharded global interner of weak references and are freed when the last `UOp` handle
//! goes; freeing a deep chain is iterative, so no depth overflows the stack.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::{Arc, LazyLock, Weak};

use dtype::DType;
use parking_lot::Mutex;

use crate::arg::Arg;
use crate::bounds::{Bounds, compute_bounds};
use crate::key::{Key, StableHasher};
use crate::op::Op;

/// A handle to an interned node. Cloning is a reference-count increment.
#[derive(Clone)]
pub struct UOp(Arc<Node>);

/// The contents of a node. Reach it through `UOp`'s accessors.
pub struct Node {
    op: Op,
    dtype: DType,
    /// Vector lanes: 1 for a scalar, `n` for a vector of `n` elements of `dtype`.
    lanes: u8,
    src: Box<[UOp]>,
    arg: Arg,
    key: Key,
    bounds: Option<Bounds>,
    /// The shape of a tensor-graph node (`crate::shape`); `None` for kernel-AST nodes.
    shape: Option<Arc<[i64]>>,
}

impl UOp {
    /// Interns `(op, dtype, src, arg)`: returns the live node with that content if there
    /// is one, else creates it.
    pub fn new(op: Op, dtype: DType, src: impl Into<Box<[UOp]>>, arg: Arg) -> UOp {
        UOp::new_vec(op, dtype, 1, src, arg)
    }

    /// Interns a node of `lanes` elements of `dtype` (a vector when `lanes > 1`; 0 is
    /// taken as 1). Vectors exist only after the linearizer's vectorize pass.
    pub fn new_vec(op: Op, dtype: DType, lanes: u8, src: impl Into<Box<[UOp]>>, arg: Arg) -> UOp {
        let lanes = lanes.max(1);
        let src = src.into();
        let key = content_key(op, dtype, lanes, &src, &arg);
        // Upgraded handles that do not match are dropped only after the lock is released
        // (declared first, dropped last): dropping a last handle evicts, which locks.
        let mut misses: Vec<Arc<Node>> = Vec::new();
        let shard = &INTERNER.shards[(key.0[0] as usize) % SHARDS];
        let mut map = shard.lock();
        let bucket = map.entry(key.0[0]).or_default();
        for weak in bucket.as_slice() {
            let Some(node) = weak.upgrade() else { continue };
            if node.op == op
                && node.dtype == dtype
                && node.lanes == lanes
                && node.arg == arg
                && node.src.len() == src.len()
                && node.src.iter().zip(src.iter()).all(|(a, b)| a == b)
            {
                return UOp(node);
            }
            misses.push(node);
        }
        bucket.retain_live();
        let bounds = if lanes == 1 {
            compute_bounds(op, dtype, &src, &arg)
        } else {
            None
        };
        let shape = if lanes == 1 {
            crate::shape::node_shape(op, &src, &arg)
        } else {
            None
        };
        let node = Arc::new(Node {
            op,
            dtype,
            lanes,
            src,
            arg,
            key,
            bounds,
            shape,
        });
        bucket.push(Arc::downgrade(&node));
        UOp(node)
    }

    pub fn op(&self) -> Op {
        self.0.op
    }

    pub fn dtype(&self) -> DType {
        self.0.dtype
    }

    /// The dtype as printed: `f32`, or `f32x8` for a vector.
    pub fn dtype_text(&self) -> String {
        if self.lanes() > 1 {
            format!("{}x{}", self.dtype(), self.lanes())
        } else {
            self.dtype().to_string()
        }
    }

    /// Vector lanes (1 for a scalar).
    pub fn lanes(&self) -> u8 {
        self.0.lanes
    }

    pub fn src(&self) -> &[UOp] {
        &self.0.src
    }

    pub fn arg(&self) -> &Arg {
        &self.0.arg
    }

    /// The content hash: equal for equal content in every run.
    pub fn key(&self) -> Key {
        self.0.key
    }

    /// Interval bounds `[vmin, vmax]` of an integer, index or bool node; `None` for floats
    /// and statements.
    pub fn bounds(&self) -> Option<Bounds> {
        self.0.bounds
    }

    /// The shape of a tensor-graph node (see `infer_shape`); `None` for a kernel-AST node
    /// or a malformed one.
    pub fn shape(&self) -> Option<&[i64]> {
        self.0.shape.as_deref()
    }

    pub(crate) fn shape_arc(&self) -> Option<&Arc<[i64]>> {
        self.0.shape.as_ref()
    }

    /// A stable identity for the lifetime of the node (its address).
    pub fn id(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }

    /// A handle that does not keep the node alive.
    pub fn downgrade(&self) -> WeakUOp {
        WeakUOp(Arc::downgrade(&self.0))
    }

    /// The same node with other sources.
    pub fn with_src(&self, src: impl Into<Box<[UOp]>>) -> UOp {
        UOp::new_vec(
            self.op(),
            self.dtype(),
            self.lanes(),
            src,
            self.arg().clone(),
        )
    }

    /// A total order that is the same in every run: op, then dtype, then arg, then key.
    /// Used to put operands of commutative ops in canonical order.
    pub fn canonical_cmp(&self, other: &UOp) -> Ordering {
        if self == other {
            return Ordering::Equal;
        }
        (self.op(), self.dtype())
            .cmp(&(other.op(), other.dtype()))
            .then_with(|| arg_rank(self.arg()).cmp(&arg_rank(other.arg())))
            .then_with(|| self.key().cmp(&other.key()))
    }
}

/// Orders args where a human expects it (range axis, var name); the rest by key.
fn arg_rank(arg: &Arg) -> (u32, &str) {
    match arg {
        Arg::Range { axis, .. } => (*axis, ""),
        Arg::Var { name, .. } => (0, name),
        _ => (0, ""),
    }
}

/// A weak handle to a node: `upgrade` gives it back while it is alive.
#[derive(Clone, Debug)]
pub struct WeakUOp(Weak<Node>);

impl WeakUOp {
    pub fn upgrade(&self) -> Option<UOp> {
        self.0.upgrade().map(UOp)
    }

    pub fn is_alive(&self) -> bool {
        self.0.strong_count() > 0
    }
}

impl PartialEq for UOp {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for UOp {}

impl Hash for UOp {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0.key.0[0]);
    }
}

impl fmt::Debug for UOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", crate::print::expr_string(self))
    }
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.op, self.dtype, self.arg)
    }
}

fn content_key(op: Op, dtype: DType, lanes: u8, src: &[UOp], arg: &Arg) -> Key {
    let mut h = StableHasher::default();
    op.name().hash(&mut h);
    dtype.name().hash(&mut h);
    // scalars hash as they did before vectors existed
    if lanes > 1 {
        h.write_usize(lanes as usize);
    }
    arg.hash(&mut h);
    h.write_usize(src.len());
    for s in src {
        h.write_key(s.key());
    }
    h.key()
}

/// Called with the id of each BUFFER node as it is freed (set once, by the engine's
/// store: memory goes back the moment its node dies, without scanning for dead nodes).
static BUFFER_FREED: std::sync::OnceLock<fn(u64)> = std::sync::OnceLock::new();

/// Installs the function told the id of every BUFFER node freed from now on; only the
/// first call installs one (returns whether this one did).
pub fn on_buffer_freed(hook: fn(u64)) -> bool {
    BUFFER_FREED.set(hook).is_ok()
}

impl Drop for Node {
    fn drop(&mut self) {
        INTERNER.evict(self.key);
        if let (Arg::Buffer { id, .. }, Some(hook)) = (&self.arg, BUFFER_FREED.get()) {
            hook(*id);
        }
        // Free the sources iteratively: a child whose last handle is ours is taken out of
        // its Arc, its own sources go on the stack, and it drops with none.
        let mut stack: Vec<UOp> = std::mem::take(&mut self.src).into_vec();
        while let Some(child) = stack.pop() {
            if let Some(mut node) = Arc::into_inner(child.0) {
                stack.extend(std::mem::take(&mut node.src).into_vec());
            }
        }
    }
}

const SHARDS: usize = 64;

/// A hasher for keys that are already hashes (a `UOp` hashes as its content key).
#[derive(Default, Clone, Copy, Debug)]
pub struct PassThrough(u64);

/// A hash map keyed by nodes, hashing each by its (already random) content key.
pub type UOpMap<V> = HashMap<UOp, V, BuildHasherDefault<PassThrough>>;
/// A hash set of nodes, hashing each by its content key.
pub type UOpSet = std::collections::HashSet<UOp, BuildHasherDefault<PassThrough>>;

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// The nodes whose keys share their first 64 bits: almost always one, held inline.
enum Bucket {
    One(Weak<Node>),
    Many(Vec<Weak<Node>>),
}

impl Default for Bucket {
    fn default() -> Bucket {
        Bucket::Many(Vec::new())
    }
}

impl Bucket {
    fn as_slice(&self) -> &[Weak<Node>] {
        match self {
            Bucket::One(w) => std::slice::from_ref(w),
            Bucket::Many(v) => v,
        }
    }

    fn push(&mut self, w: Weak<Node>) {
        match self {
            Bucket::Many(v) if v.is_empty() => *self = Bucket::One(w),
            Bucket::Many(v) => v.push(w),
            Bucket::One(first) => {
                let first = std::mem::replace(first, Weak::new());
                *self = Bucket::Many(vec![first, w]);
            }
        }
    }

    /// Drops the dead entries; whether none is left.
    fn retain_live(&mut self) -> bool {
        match self {
            Bucket::One(w) if w.strong_count() == 0 => *self = Bucket::default(),
            Bucket::One(_) => {}
            Bucket::Many(v) => v.retain(|w| w.strong_count() > 0),
        }
        self.as_slice().is_empty()
    }
}

type Shard = Mutex<HashMap<u64, Bucket, BuildHasherDefault<PassThrough>>>;

struct Interner {
    shards: Vec<Shard>,
}

static INTERNER: LazyLock<Interner> = LazyLock::new(|| Interner {
    shards: (0..SHARDS)
        .map(|_| Mutex::new(HashMap::default()))
        .collect(),
});

impl Interner {
    /// Drops the dead entries of the bucket that held a node with this key.
    fn evict(&self, key: Key) {
        let mut map = self.shards[(key.0[0] as usize) % SHARDS].lock();
        if let Some(bucket) = map.get_mut(&key.0[0])
            && bucket.retain_live()
        {
            map.remove(&key.0[0]);
        }
    }
}

/// How many nodes are alive in the interner (for tests of freeing).
pub fn live_nodes() -> usize {
    INTERNER
        .shards
        .iter()
        .map(|s| {
            s.lock()
                .values()
                .map(|b| b.as_slice().iter().filter(|w| w.strong_count() > 0).count())
                .sum::<usize>()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arg::ConstValue;

    fn c(v: i128) -> UOp {
        UOp::new(Op::Const, DType::Index, [], Arg::Const(ConstValue::Int(v)))
    }

    #[test]
    fn same_content_is_same_node() {
        let a = UOp::new(Op::Add, DType::Index, [c(1), c(2)], Arg::None);
        let b = UOp::new(Op::Add, DType::Index, [c(1), c(2)], Arg::None);
        assert_eq!(a, b);
        assert_eq!(a.id(), b.id());
        let d = UOp::new(Op::Add, DType::I32, [c(1), c(2)], Arg::None);
        assert_ne!(a, d);
    }

    #[test]
    fn keys_depend_on_content_only() {
        let k1 = UOp::new(Op::Mul, DType::Index, [c(3), c(4)], Arg::None).key();
        let k2 = UOp::new(Op::Mul, DType::Index, [c(3), c(4)], Arg::None).key();
        assert_eq!(k1, k2);
        assert_ne!(
            k1,
            UOp::new(Op::Mul, DType::Index, [c(4), c(3)], Arg::None).key()
        );
    }

    #[test]
    fn deep_chains_drop_without_overflow() {
        let mut x = c(0);
        for i in 0..200_000 {
            x = UOp::new(Op::Add, DType::Index, [x, c(i % 7)], Arg::None);
        }
        drop(x);
    }

    #[test]
    fn dropped_nodes_are_freed() {
        let unique = UOp::new(
            Op::Const,
            DType::I16,
            [],
            Arg::Const(ConstValue::Int(-31_337)),
        );
        let weak = Arc::downgrade(&unique.0);
        drop(unique);
        assert!(weak.upgrade().is_none());
        // rebuilding after a free gives a fresh, working node
        let again = UOp::new(
            Op::Const,
            DType::I16,
            [],
            Arg::Const(ConstValue::Int(-31_337)),
        );
        assert_eq!(again.arg(), &Arg::Const(ConstValue::Int(-31_337)));
    }

    #[test]
    fn interning_is_thread_safe() {
        let keep: Vec<UOp> = (0..2000)
            .map(|i| UOp::new(Op::Add, DType::Index, [c(i), c(i + 1)], Arg::None))
            .collect();
        let expect: usize = keep.iter().map(UOp::id).sum();
        let handles: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| {
                    (0..2000)
                        .map(|i| UOp::new(Op::Add, DType::Index, [c(i), c(i + 1)], Arg::None).id())
                        .sum::<usize>()
                })
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().ok(), Some(expect));
        }
    }
}
