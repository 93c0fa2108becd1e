//! The device registry: maps a device string to a shared `Arc<dyn Device>`. Runtimes
//! register a factory for a prefix (`"CPU"`, `"CUDA"`); `open("CUDA:1")` calls the
//! `"CUDA"` factory with the full name once and caches the device.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use parking_lot::Mutex;

use crate::{Device, DeviceError, Result};

type Factory = fn(&str) -> Result<Arc<dyn Device>>;

struct Registry {
    factories: HashMap<String, Factory>,
    open: HashMap<String, Arc<dyn Device>>,
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(|| {
    Mutex::new(Registry {
        factories: HashMap::new(),
        open: HashMap::new(),
    })
});

/// Makes devices named `prefix` or `prefix:...` available.
pub fn register(prefix: &str, factory: Factory) {
    REGISTRY
        .lock()
        .factories
        .insert(prefix.to_ascii_uppercase(), factory);
}

/// The registered prefixes, sorted.
pub fn registered() -> Vec<String> {
    let mut v: Vec<String> = REGISTRY.lock().factories.keys().cloned().collect();
    v.sort();
    v
}

/// The device with this name, opened on first use.
pub fn open(name: &str) -> Result<Arc<dyn Device>> {
    let canonical = name.trim().to_ascii_uppercase();
    let prefix = canonical.split(':').next().unwrap_or_default().to_string();
    let factory = {
        let reg = REGISTRY.lock();
        if let Some(dev) = reg.open.get(&canonical) {
            return Ok(dev.clone());
        }
        reg.factories.get(&prefix).copied()
    };
    let factory = factory.ok_or_else(|| DeviceError::UnknownDevice {
        name: name.to_string(),
        known: registered(),
    })?;
    let dev = factory(&canonical)?;
    Ok(REGISTRY.lock().open.entry(canonical).or_insert(dev).clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_devices_name_the_known_ones() {
        register("NULLTEST", |name| {
            Err(DeviceError::Unavailable {
                device: name.into(),
                why: "test".into(),
            })
        });
        let err = open("NOPE:0").expect_err("unknown");
        assert!(err.to_string().contains("NULLTEST"), "{err}");
        assert!(matches!(
            open("nulltest:3"),
            Err(DeviceError::Unavailable { .. })
        ));
    }
}
