//! A device for the engine's own tests, with no compiler: host memory, so that the
//! store is tested without a C compiler. Each test names its own device, so that
//! per-device statistics are not shared between tests running at once.

use std::sync::Arc;

use device::{
    Buffer, Device, DeviceError, LinearProgram, Program, RawBuffer, RenderError, Renderer, Result,
    Roofline, Source,
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
