//! `FastHasher`: a hasher for the engine's in-process maps and keys, where SipHash's
//! resistance to chosen keys buys nothing and costs a dispatch of a tiny kernel several
//! hundred nanoseconds. Two 64-bit lanes, each word folded in with a rotate, xor and
//! multiply (the FxHash step, with a second multiplier for the second lane), finished with
//! a multiply-xorshift. Not stable across builds: never use it for anything on disk.

use std::hash::{BuildHasherDefault, Hasher};

use uop_ir::Key;

const K0: u64 = 0x51_7c_c1_b7_27_22_0a_95;
const K1: u64 = 0x9e37_79b9_7f4a_7c15;

#[derive(Clone, Copy, Debug)]
pub struct FastHasher {
    lanes: [u64; 2],
}

impl Default for FastHasher {
    fn default() -> Self {
        FastHasher {
            lanes: [0x243f_6a88_85a3_08d3, 0x1319_8a2e_0370_7344],
        }
    }
}

/// `HashMap`/`HashSet` state with `FastHasher`.
pub type FastBuild = BuildHasherDefault<FastHasher>;

fn finish(x: u64) -> u64 {
    let x = (x ^ (x >> 32)).wrapping_mul(0xd6e8_feb8_6659_fd93);
    x ^ (x >> 32)
}

impl FastHasher {
    /// Both lanes, finished: a 128-bit key of everything written.
    pub fn key(&self) -> Key {
        Key([finish(self.lanes[0]), finish(self.lanes[1])])
    }
}

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        finish(self.lanes[0])
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        self.write_u64(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 56));
    }

    fn write_u64(&mut self, v: u64) {
        self.lanes[0] = (self.lanes[0].rotate_left(5) ^ v).wrapping_mul(K0);
        self.lanes[1] = (self.lanes[1].rotate_left(23) ^ v).wrapping_mul(K1);
    }

    fn write_u8(&mut self, v: u8) {
        self.write_u64(u64::from(v));
    }

    fn write_u32(&mut self, v: u32) {
        self.write_u64(u64::from(v));
    }

    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }

    fn write_i64(&mut self, v: i64) {
        self.write_u64(v as u64);
    }

    fn write_isize(&mut self, v: isize) {
        self.write_u64(v as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::Hash;

    fn key_of(v: impl Hash) -> Key {
        let mut h = FastHasher::default();
        v.hash(&mut h);
        h.key()
    }

    #[test]
    fn order_length_and_content_change_the_key() {
        let base = key_of((1u64, 2u64));
        assert_eq!(base, key_of((1u64, 2u64)));
        assert_ne!(base, key_of((2u64, 1u64)));
        assert_ne!(key_of("ab"), key_of("ab\0"));
        assert_ne!(
            key_of([1i64, 2].as_slice()),
            key_of([1i64, 2, 0].as_slice())
        );
        assert_ne!(base.0[0], base.0[1], "the lanes differ");
    }
}
