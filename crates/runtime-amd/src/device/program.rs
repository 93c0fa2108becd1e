//! `AmdProgram`: a kernel's code object loaded into GPU memory, and its launches. Loading
//! copies every allocated section of the linked code object to its address in one GPU
//! allocation (a linked object of one kernel needs no relocations; one with dynamic
//! relocations is refused) and reads the kernel descriptor for the dispatch. A launch
//! writes the buffer addresses as kernel arguments, records the dispatch (with GPU
//! timestamps around it when the caller waits) and a signal, and submits it.

use std::sync::Arc;
use std::time::Duration;

use device::{Buffer, DeviceError, LaunchDims, Program};
use elf_file::{Elf, SHF_ALLOC, SHT_NOBITS, SHT_RELA};
use parking_lot::Mutex;
use renderer_amd::CodeObject;

use crate::compute::{ComputeQueue, KernelResources, Launch};
use crate::device::memory::{Driver, GpuMemory, Kind};
use crate::device::queue::{HwQueue, SIGNAL_END, SIGNAL_START};
use crate::{AmdError, Generation, Result};

/// A loaded kernel.
#[derive(Debug)]
pub struct AmdProgram {
    name: String,
    resources: KernelResources,
    queue: Arc<Mutex<HwQueue>>,
    generation: Generation,
    xccs: u32,
    _code: GpuMemory,
}

/// The image of a linked code object: every allocated section at its address.
fn image(bytes: &[u8]) -> Result<Vec<u8>> {
    let elf = Elf::parse(bytes).map_err(|e| AmdError::CodeObject(e.to_string()))?;
    if elf
        .sections
        .iter()
        .any(|s| s.kind == SHT_RELA && s.flags & SHF_ALLOC != 0 && s.size > 0)
    {
        return Err(AmdError::CodeObject(
            "the code object has dynamic relocations, which this loader does not apply".into(),
        ));
    }
    let loaded: Vec<_> = elf
        .sections
        .iter()
        .filter(|s| s.flags & SHF_ALLOC != 0)
        .collect();
    let end = loaded.iter().map(|s| s.addr + s.size).max().unwrap_or(0);
    let mut out =
        vec![0u8; usize::try_from(end).map_err(|_| AmdError::CodeObject("too large".into()))?];
    for s in loaded.iter().filter(|s| s.kind != SHT_NOBITS) {
        let data = elf
            .data(s)
            .map_err(|e| AmdError::CodeObject(e.to_string()))?;
        let at = s.addr as usize;
        out[at..at + data.len()].copy_from_slice(data);
    }
    Ok(out)
}

impl AmdProgram {
    /// Loads kernel `name` of the linked code object `bytes`.
    pub fn load(
        driver: &Arc<Driver>,
        queue: Arc<Mutex<HwQueue>>,
        generation: Generation,
        xccs: u32,
        name: &str,
        bytes: &[u8],
    ) -> Result<AmdProgram> {
        let co = CodeObject::parse(bytes).map_err(|e| AmdError::CodeObject(e.to_string()))?;
        let k = co
            .kernel(name)
            .ok_or_else(|| AmdError::CodeObject(format!("no kernel {name} in the code object")))?;
        let img = image(bytes)?;
        let code = GpuMemory::new(driver, img.len(), Kind::Vram)?;
        code.mapping().copy_in(0, &img)?;
        let kd = &k.descriptor;
        let resources = KernelResources {
            descriptor: code.addr() + k.descriptor_address,
            code: code.addr() + k.code_address,
            rsrc1: kd.compute_pgm_rsrc1,
            rsrc2: kd.compute_pgm_rsrc2,
            rsrc3: kd.compute_pgm_rsrc3,
            group_segment: kd.group_segment_fixed_size,
            private_segment: kd.private_segment_fixed_size,
            properties: kd.kernel_code_properties,
        };
        Ok(AmdProgram {
            name: name.to_string(),
            resources,
            queue,
            generation,
            xccs,
            _code: code,
        })
    }

    fn run(&self, buffers: &[&Buffer], dims: &LaunchDims, wait: bool) -> Result<Option<Duration>> {
        let args: Vec<u8> = buffers
            .iter()
            .flat_map(|b| b.addr().to_le_bytes())
            .collect();
        let mut q = self.queue.lock();
        let kernargs = q.kernargs(&args)?;
        let signal = q.signal_addr();
        let value = q.last.wrapping_add(1);
        let mut rec = ComputeQueue::new(self.generation, self.xccs);
        if wait {
            rec.timestamp(signal + SIGNAL_START)?;
        }
        rec.dispatch(&Launch {
            kernel: self.resources,
            kernargs,
            groups: dims.global,
            workgroup: dims.local,
            dispatch_packet: None,
        })?;
        if wait {
            rec.timestamp(signal + SIGNAL_END)?;
        }
        rec.signal(signal, value)?;
        q.submit(&rec, value)?;
        if !wait {
            return Ok(None);
        }
        q.wait(value)?;
        Ok(Some(q.elapsed()))
    }
}

impl Program for AmdProgram {
    fn name(&self) -> &str {
        &self.name
    }

    /// Queues the kernel on the GPU; with `wait`, waits for it and returns the time the
    /// GPU's clock measured.
    unsafe fn launch(
        &self,
        buffers: &[&Buffer],
        dims: &LaunchDims,
        vals: &[i64],
        wait: bool,
    ) -> device::Result<Option<Duration>> {
        if !vals.is_empty() {
            return Err(DeviceError::Launch {
                function: self.name.clone(),
                why: format!(
                    "AMD kernels take no scalar arguments yet, but {} were given",
                    vals.len()
                ),
            });
        }
        self.run(buffers, dims, wait)
            .map_err(|e| DeviceError::Launch {
                function: self.name.clone(),
                why: e.to_string(),
            })
    }
}
