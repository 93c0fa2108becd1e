//! A device for the engine's own tests, with no compiler: host memory, and programs that
//! are Rust functions over f32 buffers (`HostProgram`), so that the store, capture and
//! replay are tested without a C compiler. Each test names its own device, so that
//! per-device statistics are not shared between tests running at once.

use std::sync::Arc;
use std::time::Duration;

use device::{
    Buffer, Device, DeviceError, LaunchDims, LinearProgram, Program, RawBuffer, RenderError,
    Renderer, Result, Roofline, Source,
};
use linearizer::Target;
use parking_lot::Mutex;

/// Host memory; `addr` is its first byte.
#[derive(Debug)]
pub struct HostBuffer(Mutex<Vec<u8>>);

impl RawBuffer for HostBuffer {
    fn size(&self) -> usize {
        self.0.lock().len()
    }

    fn addr(&self) -> u64 {
        self.0.lock().as_ptr() as u64
    }

    fn copy_in(&self, offset: usize, data: &[u8]) -> Result<()> {
        let mut bytes = self.0.lock();
        let size = bytes.len();
        let out_of_bounds = DeviceError::CopyOutOfBounds {
            offset,
            len: data.len(),
            size,
        };
        let end = offset
            .checked_add(data.len())
            .ok_or(out_of_bounds.clone())?;
        bytes
            .get_mut(offset..end)
            .ok_or(out_of_bounds)?
            .copy_from_slice(data);
        Ok(())
    }

    fn copy_out(&self, offset: usize, out: &mut [u8]) -> Result<()> {
        let bytes = self.0.lock();
        let out_of_bounds = DeviceError::CopyOutOfBounds {
            offset,
            len: out.len(),
            size: bytes.len(),
        };
        let end = offset.checked_add(out.len()).ok_or(out_of_bounds.clone())?;
        out.copy_from_slice(bytes.get(offset..end).ok_or(out_of_bounds)?);
        Ok(())
    }
}

/// The f32 values of a buffer of a `HostDevice`.
pub fn f32s(b: &Buffer) -> Vec<f32> {
    let mut bytes = vec![0u8; b.size()];
    b.copy_out(0, &mut bytes).expect("read");
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Writes f32 values into a buffer of a `HostDevice`.
pub fn set_f32s(b: &Buffer, values: &[f32]) {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_ne_bytes()).collect();
    b.copy_in(0, &bytes).expect("write");
}

/// A renderer that renders nothing: `HostDevice` programs are made directly.
#[derive(Debug, Default)]
struct NoRenderer(Target);

impl Renderer for NoRenderer {
    fn target(&self) -> &Target {
        &self.0
    }

    fn render(&self, p: &LinearProgram) -> std::result::Result<Source, RenderError> {
        Err(RenderError::Malformed {
            kernel: p.name.clone(),
            why: "the test device renders nothing".into(),
        })
    }
}

/// A device of host memory, named as the test chooses.
#[derive(Debug)]
pub struct HostDevice {
    name: String,
    renderer: NoRenderer,
}

impl HostDevice {
    pub fn open(name: &str) -> Arc<dyn Device> {
        Arc::new(HostDevice {
            name: name.to_string(),
            renderer: NoRenderer::default(),
        })
    }
}

impl Device for HostDevice {
    fn name(&self) -> &str {
        &self.name
    }

    fn renderer(&self) -> &dyn Renderer {
        &self.renderer
    }

    fn alloc(&self, bytes: usize) -> Result<Buffer> {
        Ok(Arc::new(HostBuffer(Mutex::new(vec![0; bytes]))))
    }

    fn compile(&self, source: &Source) -> Result<Arc<dyn Program>> {
        Err(DeviceError::Compile {
            function: source.function.clone(),
            log: "the test device compiles nothing".into(),
        })
    }

    fn roofline(&self) -> Roofline {
        Roofline {
            gflops: 1.0,
            gbs: 1.0,
        }
    }
}

/// `out[i] = f(inputs[0][i], inputs[1][i], ..)` over f32 buffers (slot 0 is `out`; an
/// input shorter than `out` repeats).
#[derive(Debug)]
pub struct HostProgram {
    pub name: &'static str,
    pub f: fn(&[f32]) -> f32,
}

impl HostProgram {
    /// The program as the compile cache holds it, with a linear program that only names it.
    pub fn compiled(name: &'static str, f: fn(&[f32]) -> f32) -> Arc<crate::Compiled> {
        let linear = LinearProgram {
            name: name.to_string(),
            uops: Vec::new(),
            params: Vec::new(),
            dims: LaunchDims::default(),
            ops: 0,
            bytes: 0,
        };
        Arc::new((linear, Arc::new(HostProgram { name, f })))
    }
}

impl Program for HostProgram {
    fn name(&self) -> &str {
        self.name
    }

    unsafe fn launch(
        &self,
        buffers: &[&Buffer],
        _dims: &LaunchDims,
        _vals: &[i64],
        _wait: bool,
    ) -> Result<Option<Duration>> {
        let inputs: Vec<Vec<f32>> = buffers[1..].iter().map(|b| f32s(b)).collect();
        let n = buffers[0].size() / 4;
        let out: Vec<f32> = (0..n)
            .map(|i| {
                let args: Vec<f32> = inputs.iter().map(|v| v[i % v.len()]).collect();
                (self.f)(&args)
            })
            .collect();
        set_f32s(buffers[0], &out);
        Ok(None)
    }
}
