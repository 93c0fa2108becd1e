//! Datasets that ship inside ferrograd (no download at run time).
//!
//! `digits()`: the UCI optdigits test set as scikit-learn ships it (`data/digits.csv.gz`,
//! see docs/data.md): 1,797 images of 8x8 pixels with values 0..16, and their labels
//! 0..9. Pixels are scaled to [0, 1]. The split is a seeded shuffle then a cut: the images
//! in the order `epoch_order(1797, 2024, 0)`, the last 360 (20%) of it test, the other
//! 1,437 train. (The file's own order groups writers: its last 360 rows, as a test set,
//! are writers the network rarely saw, and a 15-epoch run stays near 95% there.)
//!
//! `epoch_order` is the shuffle the digits training example and its peers
//! (benches/train_digits_torch.py, train_digits_tinygrad.py) share, so all three see the
//! same batches: a Fisher-Yates shuffle driven by splitmix64 seeded with `seed + epoch`.

use std::io::Read;

use frontend_tensor::{Result, Tensor, TensorError};
use thiserror::Error;

/// The gzipped CSV: one image per line, 64 pixel values then the label.
const DIGITS_CSV_GZ: &[u8] = include_bytes!("../data/digits.csv.gz");

/// Pixels per image, and the image's side.
const PIXELS: usize = 64;
const SIDE: i64 = 8;
/// The largest pixel value.
const PIXEL_MAX: f32 = 16.0;
/// How many images the test split takes from the end of the shuffled order.
pub const DIGITS_TEST_LEN: usize = 360;
/// The seed of the shuffle before the split.
pub const DIGITS_SPLIT_SEED: u64 = 2024;

#[derive(Debug, Error)]
pub enum DatasetError {
    #[error("{dataset}: cannot decompress: {error}")]
    Decompress {
        dataset: &'static str,
        error: std::io::Error,
    },
    #[error("{dataset}: line {line}: {why}")]
    Parse {
        dataset: &'static str,
        line: usize,
        why: String,
    },
}

/// Images and labels of one split, on the host.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Split {
    /// `len() * 64` pixels, row-major per image, in [0, 1].
    pub images: Vec<f32>,
    /// One label per image, 0..9.
    pub labels: Vec<i64>,
}

impl Split {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// An error naming `op` when an index is out of range.
    fn check(&self, op: &'static str, indices: &[usize]) -> Result<()> {
        match indices.iter().find(|&&i| i >= self.len()) {
            Some(i) => Err(TensorError::Invalid {
                op,
                why: format!("index {i} is out of range for {} examples", self.len()),
            }),
            None => Ok(()),
        }
    }

    /// The images at `indices` as an f32 tensor `(indices.len(), 1, 8, 8)`.
    pub fn images(&self, indices: &[usize]) -> Result<Tensor> {
        self.check("Split::images", indices)?;
        let mut pixels = Vec::with_capacity(indices.len() * PIXELS);
        for &i in indices {
            pixels.extend_from_slice(&self.images[i * PIXELS..(i + 1) * PIXELS]);
        }
        Tensor::from_slice(&pixels, &[indices.len() as i64, 1, SIDE, SIDE])
    }

    /// The labels at `indices` as an i64 tensor `(indices.len(),)`.
    pub fn labels(&self, indices: &[usize]) -> Result<Tensor> {
        self.check("Split::labels", indices)?;
        let labels: Vec<i64> = indices.iter().map(|&i| self.labels[i]).collect();
        Tensor::from_slice(&labels, &[indices.len() as i64])
    }

    /// `0..len()`, for the whole split.
    pub fn all(&self) -> Vec<usize> {
        (0..self.len()).collect()
    }
}

/// The digits, split into train (1,437 images) and test (360).
#[derive(Debug, Clone, PartialEq)]
pub struct Digits {
    pub train: Split,
    pub test: Split,
}

/// Loads the digits that ship in this crate.
pub fn digits() -> std::result::Result<Digits, DatasetError> {
    const NAME: &str = "digits";
    let mut csv = String::new();
    flate2::read::GzDecoder::new(DIGITS_CSV_GZ)
        .read_to_string(&mut csv)
        .map_err(|error| DatasetError::Decompress {
            dataset: NAME,
            error,
        })?;
    let mut all = Split::default();
    for (n, line) in csv
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let bad = |why: String| DatasetError::Parse {
            dataset: NAME,
            line: n + 1,
            why,
        };
        let fields: Vec<&str> = line.trim().split(',').collect();
        if fields.len() != PIXELS + 1 {
            return Err(bad(format!("{} fields, want {}", fields.len(), PIXELS + 1)));
        }
        for f in &fields[..PIXELS] {
            let v: u8 = f
                .parse()
                .map_err(|_| bad(format!("pixel {f:?} is not 0..16")))?;
            if f32::from(v) > PIXEL_MAX {
                return Err(bad(format!("pixel {v} is not 0..16")));
            }
            all.images.push(f32::from(v) / PIXEL_MAX);
        }
        let label: i64 = fields[PIXELS]
            .parse()
            .ok()
            .filter(|l| (0..10).contains(l))
            .ok_or_else(|| bad(format!("label {:?} is not 0..9", fields[PIXELS])))?;
        all.labels.push(label);
    }
    if all.len() <= DIGITS_TEST_LEN {
        return Err(DatasetError::Parse {
            dataset: NAME,
            line: all.len(),
            why: format!("only {} images", all.len()),
        });
    }
    let order = epoch_order(all.len(), DIGITS_SPLIT_SEED, 0);
    let (train, test) = order.split_at(all.len() - DIGITS_TEST_LEN);
    let pick = |indices: &[usize]| Split {
        images: indices
            .iter()
            .flat_map(|&i| all.images[i * PIXELS..(i + 1) * PIXELS].iter().copied())
            .collect(),
        labels: indices.iter().map(|&i| all.labels[i]).collect(),
    };
    Ok(Digits {
        train: pick(train),
        test: pick(test),
    })
}

/// splitmix64, the generator of `epoch_order`.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The order of `n` examples in epoch `epoch`: a Fisher-Yates shuffle (for `i` from
/// `n - 1` down to 1, swap `i` with `next() % (i + 1)`) by splitmix64 seeded with
/// `seed + epoch`.
pub fn epoch_order(n: usize, seed: u64, epoch: u64) -> Vec<usize> {
    let mut rng = SplitMix64(seed.wrapping_add(epoch));
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_load_with_the_seeded_split() {
        let d = digits().expect("digits");
        assert_eq!((d.train.len(), d.test.len()), (1437, 360));
        assert_eq!(d.train.images.len(), 1437 * 64);
        // as the Python peers split it (benches/train_digits_*.py): the first training
        // image (the file's row 359) and labels, and the test split's label counts
        let first: Vec<f32> = [0, 0, 6, 13, 16, 10, 0, 0]
            .map(|v| v as f32 / 16.0)
            .to_vec();
        assert_eq!(&d.train.images[..8], first.as_slice());
        assert_eq!(d.train.labels[..3], [3, 5, 2]);
        let mut counts = [0; 10];
        d.test.labels.iter().for_each(|&l| counts[l as usize] += 1);
        assert_eq!(counts, [34, 34, 32, 36, 43, 47, 31, 28, 45, 30]);
        // every pixel of the file, summed
        let sum: f64 = d
            .train
            .images
            .iter()
            .chain(&d.test.images)
            .map(|&v| f64::from(v) * 16.0)
            .sum();
        assert_eq!(sum, 561_718.0);
    }

    #[test]
    fn epoch_orders_are_seeded_permutations() {
        let a = epoch_order(1437, 0, 0);
        assert_eq!(a, epoch_order(1437, 0, 0));
        assert_ne!(a, epoch_order(1437, 0, 1));
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..1437).collect::<Vec<_>>());
        // out-of-range indices are errors
        let d = digits().expect("digits");
        let e = d.test.images(&[0, 360]).unwrap_err().to_string();
        assert!(
            e.contains("Split::images") && e.contains("index 360"),
            "{e}"
        );
        assert!(d.test.labels(&[400]).is_err());
        // the same indices as the Python peers' shuffle (benches/train_digits_*.py)
        assert_eq!(a[..6], [730, 109, 1273, 1079, 553, 219]);
    }
}
