//! `AmdDevice`: an AMD GPU as a ferrograd device, over the KFD. Opening it follows the
//! bring-up of `kfd`: the GPU from the sysfs topology (`AMD` is the first GPU, `AMD:N`
//! the N-th), `/dev/kfd` and its render node, GET_VERSION, ACQUIRE_VM, RUNTIME_ENABLE
//! (KFD 1.14+), then one compute queue (`queue.rs`). Buffers are CPU-visible VRAM
//! (`memory.rs`); `compile` renders nothing itself: it compiles the AMD renderer's IR
//! into a code object (feature `llvm`) and loads it (`program.rs`).
//!
//! Without an AMD GPU, `open` says what is missing (no topology, no GPU node, no
//! `/dev/kfd`, a processor ferrograd does not render for); nothing panics.

mod memory;
mod program;
mod queue;

use std::path::Path;
use std::sync::{Arc, OnceLock};

use device::{Buffer, Device, DeviceError, Lru, Program, Renderer, Roofline, Source};
use parking_lot::Mutex;
use renderer_amd::{AmdRenderer, Arch};

pub use memory::{AmdBuffer, Driver, GpuMemory, Kind};
pub use program::AmdProgram;
pub use queue::HwQueue;

use crate::kfd::ioctl::{
    ACQUIRE_VM, AcquireVm, GET_VERSION, GetVersion, RUNTIME_ENABLE, RuntimeEnable,
};
use crate::kfd::sys::DeviceFile;
use crate::kfd::topology::{GpuNode, TOPOLOGY, discover};
use crate::{AmdError, Generation};

/// An AMD GPU (see the module doc).
#[derive(Debug)]
pub struct AmdDevice {
    name: String,
    node: GpuNode,
    generation: Generation,
    renderer: AmdRenderer,
    driver: Arc<Driver>,
    queue: Arc<Mutex<HwQueue>>,
    programs: Mutex<Lru<u128, Arc<AmdProgram>>>,
    roofline: OnceLock<Roofline>,
}

fn unavailable(name: &str, e: AmdError) -> DeviceError {
    DeviceError::Unavailable {
        device: name.to_string(),
        why: e.to_string(),
    }
}

/// The GPU index of a device name: `AMD` is 0, `AMD:N` is N.
fn index_of(name: &str) -> Result<usize, String> {
    match name.split_once(':') {
        None => Ok(0),
        Some((_, n)) => n
            .parse()
            .map_err(|_| format!("{name:?}: the part after ':' is not a GPU number")),
    }
}

impl AmdDevice {
    /// Opens the GPU `name` (see the module doc).
    pub fn open(name: &str) -> device::Result<AmdDevice> {
        let fail = |e: AmdError| unavailable(name, e);
        let index = index_of(name).map_err(|why| DeviceError::Unavailable {
            device: name.into(),
            why,
        })?;
        let gpus = discover(Path::new(TOPOLOGY)).map_err(fail)?;
        let node = gpus.get(index).cloned().ok_or_else(|| {
            fail(AmdError::NoGpu(format!(
                "GPU {index} asked for, {} found",
                gpus.len()
            )))
        })?;
        let arch = Arch::from_name(&node.gfx_name()).ok_or_else(|| {
            fail(AmdError::NoGpu(format!(
                "{} is not a processor ferrograd renders for (gfx942, gfx950, gfx1100, gfx1200, gfx1201, gfx1250)",
                node.gfx_name()
            )))
        })?;
        let generation = node.generation().ok_or_else(|| {
            fail(AmdError::NoGpu(format!(
                "{} has no known command format",
                node.gfx_name()
            )))
        })?;
        let kfd = DeviceFile::open(Path::new("/dev/kfd")).map_err(fail)?;
        let render = DeviceFile::open(&node.render_node()).map_err(fail)?;
        let mut version = GetVersion::default();
        kfd.ioctl(GET_VERSION, &mut version).map_err(fail)?;
        let mut vm = AcquireVm {
            drm_fd: render.raw_fd() as u32,
            gpu_id: node.gpu_id,
        };
        kfd.ioctl(ACQUIRE_VM, &mut vm).map_err(fail)?;
        if (version.major_version, version.minor_version) >= (1, 14) {
            let mut enable = RuntimeEnable::default();
            kfd.ioctl(RUNTIME_ENABLE, &mut enable).map_err(fail)?;
        }
        let driver = Arc::new(Driver {
            kfd,
            render,
            gpu_id: node.gpu_id,
        });
        let queue = HwQueue::new(&driver, &node).map_err(fail)?;
        Ok(AmdDevice {
            name: name.to_string(),
            generation,
            renderer: AmdRenderer::new(arch),
            node,
            driver,
            queue: Arc::new(Mutex::new(queue)),
            programs: Mutex::new(Lru::new(device::program_cache_capacity())),
            roofline: OnceLock::new(),
        })
    }

    pub fn node(&self) -> &GpuNode {
        &self.node
    }

    /// The code object of `source` (feature `llvm`).
    #[cfg(feature = "llvm")]
    fn code_object(&self, source: &Source) -> Result<Vec<u8>, String> {
        renderer_amd::compile::CodeObjectCompiler::new(self.renderer.arch())
            .and_then(|c| c.code_object(source))
            .map_err(|e| e.to_string())
    }

    #[cfg(not(feature = "llvm"))]
    fn code_object(&self, _source: &Source) -> Result<Vec<u8>, String> {
        Err("runtime-amd was built without its `llvm` feature, so it cannot compile kernels".into())
    }
}

/// Hashes a source for the program cache.
fn key(source: &Source) -> u128 {
    let mut h: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for b in source
        .function
        .bytes()
        .chain([0])
        .chain(source.code.bytes())
    {
        h ^= u128::from(b);
        h = h.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013B);
    }
    h
}

impl Device for AmdDevice {
    fn name(&self) -> &str {
        &self.name
    }

    fn renderer(&self) -> &dyn Renderer {
        &self.renderer
    }

    fn alloc(&self, bytes: usize) -> device::Result<Buffer> {
        let memory = GpuMemory::new(&self.driver, bytes, Kind::Vram).map_err(|e| {
            DeviceError::OutOfMemory {
                device: self.name.clone(),
                bytes,
                why: e.to_string(),
            }
        })?;
        Ok(Arc::new(AmdBuffer {
            device: self.name.clone(),
            memory,
            size: bytes,
        }))
    }

    fn compile(&self, source: &Source) -> device::Result<Arc<dyn Program>> {
        let k = key(source);
        if let Some(p) = self.programs.lock().get(&k) {
            return Ok(p.clone());
        }
        let fail = |log: String| DeviceError::Compile {
            function: source.function.clone(),
            log,
        };
        let bytes = self.code_object(source).map_err(fail)?;
        let program = AmdProgram::load(
            &self.driver,
            self.queue.clone(),
            self.generation,
            self.node.num_xcc,
            &source.function,
            &bytes,
        )
        .map_err(|e| fail(e.to_string()))?;
        let (kept, evicted) = {
            let mut programs = self.programs.lock();
            let (kept, evicted) = programs.get_or_insert(k, Arc::new(program));
            (kept.clone(), evicted)
        };
        drop(evicted);
        Ok(kept)
    }

    fn synchronize(&self) -> device::Result<()> {
        let q = self.queue.lock();
        q.wait(q.last).map_err(|e| DeviceError::Launch {
            function: "synchronize".into(),
            why: e.to_string(),
        })
    }

    /// Peaks from the topology: f32 FMA lanes per CU per clock (two ops each) at an
    /// assumed 2.1 GHz, and 5.3 TB/s for MI300-class HBM (other parts: 1 TB/s); rough
    /// figures for the `DEBUG=2` roofline only.
    fn roofline(&self) -> Roofline {
        *self.roofline.get_or_init(|| {
            let cus = f64::from(self.node.cu_count());
            let per_cu = 128.0 * 2.0;
            let gbs = if self.renderer.arch().has_mfma() {
                5300.0
            } else {
                1000.0
            };
            Roofline {
                gflops: cus * per_cu * 2.1,
                gbs,
            }
        })
    }
}

/// Opens the AMD device `name` for the registry.
pub fn open(name: &str) -> device::Result<Arc<dyn Device>> {
    Ok(Arc::new(AmdDevice::open(name)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_pick_a_gpu() {
        assert_eq!(index_of("AMD"), Ok(0));
        assert_eq!(index_of("AMD:3"), Ok(3));
        assert!(index_of("AMD:x").is_err());
    }

    #[test]
    fn opening_without_a_gpu_is_an_error_that_says_why() {
        match AmdDevice::open("AMD") {
            Ok(dev) => println!("an AMD GPU is here: {}", dev.node().gfx_name()),
            Err(e) => {
                let text = e.to_string();
                println!("{text}");
                assert!(matches!(e, DeviceError::Unavailable { .. }), "{text}");
                assert!(text.contains("AMD"), "{text}");
            }
        }
    }
}
