use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use sha2::{Digest, Sha256};
use wasmtime::{
    Config, Engine, Instance, InstancePre, Linker, Memory, Module, Store, StoreLimits,
    StoreLimitsBuilder, Trap, TypedFunc,
};

use crate::{cache, HostError};

/// Linear memory one instance may grow to (`phc.verify` admits Argon2 `m` up to 256 MiB).
const MEMORY_LIMIT: usize = 384 << 20;
/// An instance whose memory grew past this is dropped after its call, so one large hash
/// does not keep a worker's memory high for the rest of its life.
const RECYCLE_ABOVE: usize = 64 << 20;
/// The ABI's `len` is a u32.
const MAX_REQUEST: usize = u32::MAX as usize;

/// Where an opened module came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// Already loaded in this process by an earlier open: nothing was read or compiled.
    Process,
    /// Mapped from the on-disk precompiled-module cache.
    DiskCache,
    /// Compiled with cranelift (first use on this machine, or no usable cache).
    Compiled,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Process => "process",
            Source::DiskCache => "disk_cache",
            Source::Compiled => "compiled",
        }
    }
}

/// What one [`Host::open`] did and how long it took.
#[derive(Clone, Debug)]
pub struct OpenInfo {
    pub source: Source,
    /// The wasm file was read and hashed by this open (false: the same file, unchanged,
    /// was already checked in this process).
    pub wasm_hashed: bool,
    /// An instance from an earlier open or call was reused.
    pub instance_reused: bool,
    /// Time from the start of `open` until the module and an instance were ready.
    pub ready_ns: u64,
    /// Cranelift compile time, when this open compiled.
    pub compile_ns: Option<u64>,
    /// The cache file read or written, if any.
    pub cache_file: Option<PathBuf>,
    /// Why the disk cache was not used (not trusted, not writable, incompatible), if so.
    pub cache_error: Option<String>,
}

struct Live {
    store: Store<StoreLimits>,
    memory: Memory,
    alloc: TypedFunc<u32, u32>,
    free: TypedFunc<(u32, u32), ()>,
    call: TypedFunc<(u32, u32), u64>,
}

struct Loaded {
    sha256: String,
    engine: Engine,
    pre: InstancePre<StoreLimits>,
    live: Mutex<Option<Live>>,
}

/// Identity of a file's current contents as far as `stat` can tell; any write changes
/// the mtime/ctime, a replacement changes the inode.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct FileId {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileId {
    fn of(m: &fs::Metadata) -> Self {
        Self {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        }
    }
}

#[derive(Default)]
struct Registry {
    pid: u32,
    engine: Option<Engine>,
    /// (path, identity) -> sha256 of files already hashed in this process.
    hashed: HashMap<(PathBuf, FileId), String>,
    /// sha256 -> the ready module.
    modules: HashMap<String, Arc<Loaded>>,
}

static REGISTRY: Mutex<Option<Registry>> = Mutex::new(None);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The process's registry. After a fork (php-fpm's master forks workers) the child starts
/// a fresh one and leaks the parent's: wasmtime state is not shared across processes.
fn registry() -> MutexGuard<'static, Option<Registry>> {
    let mut guard = lock(&REGISTRY);
    let pid = std::process::id();
    if guard.as_ref().is_some_and(|r| r.pid != pid) {
        std::mem::forget(guard.take());
    }
    if guard.is_none() {
        *guard = Some(Registry {
            pid,
            ..Registry::default()
        });
    }
    guard
}

fn new_engine() -> Result<Engine, HostError> {
    let config = Config::new();
    Engine::new(&config)
        .map_err(|e| HostError::new("module_invalid", format!("cannot create engine: {e}")))
}

fn sha256_hex(bytes: &[u8]) -> String {
    cache::hex(&Sha256::digest(bytes))
}

fn read_verified(path: &Path, expected: &str) -> Result<Vec<u8>, HostError> {
    let bytes = fs::read(path).map_err(|e| {
        HostError::new(
            "wasm_unreadable",
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    let actual = sha256_hex(&bytes);
    if actual != expected {
        return Err(HostError::new(
            "module_mismatch",
            format!(
                "{} has sha256 {actual}, but this host library was built for {expected}; \
                 rebuild the library after building the module (make host) or load the module it was built for",
                path.display()
            ),
        ));
    }
    Ok(bytes)
}

fn elapsed_ns(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// An open module. Cheap to open again: the module and its instance stay in the process.
pub struct Host {
    loaded: Arc<Loaded>,
    info: OpenInfo,
}

impl Host {
    /// Opens `wasm_path`, which must be the module pinned at build time
    /// ([`crate::PINNED_WASM_SHA256`]); `cache_dir` holds precompiled modules (`None`:
    /// compile in memory on a process's first open).
    pub fn open(wasm_path: &Path, cache_dir: Option<&Path>) -> Result<Host, HostError> {
        Self::open_pinned_to(crate::PINNED_WASM_SHA256, wasm_path, cache_dir)
    }

    /// [`Host::open`] with an explicit expected sha256 (the C ABI always uses the pin).
    pub fn open_pinned_to(
        expected_sha256: &str,
        wasm_path: &Path,
        cache_dir: Option<&Path>,
    ) -> Result<Host, HostError> {
        let start = Instant::now();
        if expected_sha256.is_empty() {
            return Err(HostError::new(
                "not_pinned",
                "this host library was built before dist/mail2fa.wasm existed, so it trusts no module; \
                 build the module, then the library (make host)",
            ));
        }
        let expected = expected_sha256.to_ascii_lowercase();
        let mut guard = registry();
        let reg = guard.get_or_insert_with(Registry::default);

        let meta = fs::metadata(wasm_path).map_err(|e| {
            HostError::new(
                "wasm_unreadable",
                format!("cannot read {}: {e}", wasm_path.display()),
            )
        })?;
        let key = (wasm_path.to_path_buf(), FileId::of(&meta));
        let mut bytes = None;
        let wasm_hashed = reg.hashed.get(&key) != Some(&expected);
        if wasm_hashed {
            bytes = Some(read_verified(wasm_path, &expected)?);
            reg.hashed.insert(key, expected.clone());
        }

        let mut info = OpenInfo {
            source: Source::Process,
            wasm_hashed,
            instance_reused: false,
            ready_ns: 0,
            compile_ns: None,
            cache_file: None,
            cache_error: None,
        };
        let loaded = match reg.modules.get(&expected) {
            Some(loaded) => Arc::clone(loaded),
            None => {
                if reg.engine.is_none() {
                    reg.engine = Some(new_engine()?);
                }
                let engine = reg.engine.clone().ok_or_else(|| {
                    HostError::new("module_invalid", "engine unavailable".to_owned())
                })?;
                let module =
                    load_module(&engine, &expected, wasm_path, cache_dir, bytes, &mut info)?;
                let mut linker: Linker<StoreLimits> = Linker::new(&engine);
                linker
                    .define_unknown_imports_as_traps(&module)
                    .and_then(|()| linker.instantiate_pre(&module))
                    .map(|pre| {
                        Arc::new(Loaded {
                            sha256: expected.clone(),
                            engine: engine.clone(),
                            pre,
                            live: Mutex::new(None),
                        })
                    })
                    .map_err(|e| {
                        HostError::new("module_invalid", format!("cannot link the module: {e}"))
                    })?
            }
        };
        reg.modules.insert(expected, Arc::clone(&loaded));
        drop(guard);

        {
            let mut live = lock(&loaded.live);
            info.instance_reused = live.is_some();
            if live.is_none() {
                *live = Some(loaded.instantiate()?);
            }
        }
        info.ready_ns = elapsed_ns(start);
        Ok(Host { loaded, info })
    }

    /// What this open did (source, timings, cache).
    pub fn info(&self) -> &OpenInfo {
        &self.info
    }

    /// The sha256 of the running module.
    pub fn wasm_sha256(&self) -> &str {
        &self.loaded.sha256
    }

    /// The open's details as JSON (`{"ok":true,"source":…,"ready_us":…,…}`).
    pub fn status_json(&self) -> String {
        let i = &self.info;
        serde_json::json!({
            "ok": true,
            "wasm_sha256": self.loaded.sha256,
            "wasmtime": crate::WASMTIME_VERSION,
            "pid": std::process::id(),
            "source": i.source.as_str(),
            "wasm_hashed": i.wasm_hashed,
            "instance_reused": i.instance_reused,
            "ready_us": i.ready_ns as f64 / 1000.0,
            "compile_ms": i.compile_ns.map(|n| n as f64 / 1e6),
            "cache_file": i.cache_file.as_ref().map(|p| p.display().to_string()),
            "cache_error": i.cache_error,
            "panic_unwinds": cfg!(panic = "unwind"),
        })
        .to_string()
    }

    /// Runs one JSON request through the module's raw ABI; always returns JSON (the core's
    /// response, or a host error such as `module_trap`).
    pub fn call(&self, request: &[u8]) -> String {
        if request.len() > MAX_REQUEST {
            return HostError::new("request_too_large", "the request is larger than 4 GiB")
                .to_json();
        }
        let mut live = lock(&self.loaded.live);
        if live.is_none() {
            match self.loaded.instantiate() {
                Ok(l) => *live = Some(l),
                Err(e) => return e.to_json(),
            }
        }
        let Some(instance) = live.as_mut() else {
            return HostError::new("module_fault", "no instance").to_json();
        };
        match instance.call(request) {
            Ok(response) => {
                if instance.memory.data_size(&instance.store) > RECYCLE_ABOVE {
                    *live = None;
                }
                response
            }
            Err(Failure { error, discard }) => {
                if discard {
                    *live = None;
                }
                error.to_json()
            }
        }
    }
}

fn load_module(
    engine: &Engine,
    expected: &str,
    wasm_path: &Path,
    cache_dir: Option<&Path>,
    bytes: Option<Vec<u8>>,
    info: &mut OpenInfo,
) -> Result<Module, HostError> {
    let name = cache::file_name(engine, expected);
    if let Some(dir) = cache_dir {
        match cache::load(engine, dir, &name) {
            Ok(Some(module)) => {
                info.source = Source::DiskCache;
                info.cache_file = Some(dir.join(&name));
                return Ok(module);
            }
            Ok(None) => {}
            Err(reason) => info.cache_error = Some(reason),
        }
    }
    let bytes = match bytes {
        Some(b) => b,
        None => read_verified(wasm_path, expected)?,
    };
    let t = Instant::now();
    let module = Module::new(engine, &bytes).map_err(|e| {
        HostError::new(
            "module_invalid",
            format!("cannot compile {}: {e}", wasm_path.display()),
        )
    })?;
    info.compile_ns = Some(elapsed_ns(t));
    info.source = Source::Compiled;
    if let Some(dir) = cache_dir {
        let stored = module
            .serialize()
            .map_err(|e| format!("cannot serialize the compiled module: {e}"))
            .and_then(|code| cache::store(dir, &name, &code));
        match stored {
            Ok(path) => info.cache_file = Some(path),
            Err(reason) => {
                info.cache_error = Some(match info.cache_error.take() {
                    Some(earlier) => format!("{earlier}; {reason}"),
                    None => reason,
                })
            }
        }
    }
    Ok(module)
}

impl Loaded {
    fn instantiate(&self) -> Result<Live, HostError> {
        let bad = |what: String| HostError::new("module_invalid", what);
        let limits = StoreLimitsBuilder::new()
            .memory_size(MEMORY_LIMIT)
            .instances(1)
            .build();
        let mut store = Store::new(&self.engine, limits);
        store.limiter(|l| l);
        let instance: Instance = self
            .pre
            .instantiate(&mut store)
            .map_err(|e| bad(format!("cannot instantiate the module: {e}")))?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| bad("the module exports no memory".to_owned()))?;
        let alloc = instance
            .get_typed_func(&mut store, "mail2fa_alloc")
            .map_err(|e| bad(e.to_string()))?;
        let free = instance
            .get_typed_func(&mut store, "mail2fa_free")
            .map_err(|e| bad(e.to_string()))?;
        let call = instance
            .get_typed_func(&mut store, "mail2fa_call")
            .map_err(|e| bad(e.to_string()))?;
        Ok(Live {
            store,
            memory,
            alloc,
            free,
            call,
        })
    }
}

struct Failure {
    error: HostError,
    /// The instance's state can no longer be trusted: drop it.
    discard: bool,
}

fn trapped(e: wasmtime::Error) -> Failure {
    // The root cause is the trap kind or the import's error; the top level is only
    // "error while executing at wasm backtrace".
    let what = match e.downcast_ref::<Trap>() {
        Some(trap) => trap.to_string(),
        None => e.root_cause().to_string(),
    };
    Failure {
        error: HostError::new(
            "module_trap",
            format!("the module trapped ({what}); its instance was discarded"),
        ),
        discard: true,
    }
}

fn fault(message: &str) -> Failure {
    Failure {
        error: HostError::new("module_fault", message.to_owned()),
        discard: true,
    }
}

impl Live {
    fn call(&mut self, request: &[u8]) -> Result<String, Failure> {
        // Bounded by MAX_REQUEST in `Host::call`.
        let len = u32::try_from(request.len()).map_err(|_| fault("request length"))?;
        let ptr = if len == 0 {
            0
        } else {
            let ptr = self.alloc.call(&mut self.store, len).map_err(trapped)?;
            if ptr == 0 {
                return Err(Failure {
                    error: HostError::new(
                        "request_too_large",
                        format!("the module refused a {len}-byte request buffer"),
                    ),
                    discard: false,
                });
            }
            self.memory
                .write(&mut self.store, ptr as usize, request)
                .map_err(|_| fault("the module returned a request buffer outside its memory"))?;
            ptr
        };
        let packed = self
            .call
            .call(&mut self.store, (ptr, len))
            .map_err(trapped)?;
        let (out_ptr, out_len) = ((packed >> 32) as u32, packed as u32);
        let start = out_ptr as usize;
        let end = start.saturating_add(out_len as usize);
        if end > self.memory.data_size(&self.store) {
            return Err(fault("the module returned a response outside its memory"));
        }
        let response = self.memory.data(&self.store)[start..end].to_vec();
        self.free
            .call(&mut self.store, (out_ptr, out_len))
            .map_err(trapped)?;
        if ptr != 0 {
            self.free
                .call(&mut self.store, (ptr, len))
                .map_err(trapped)?;
        }
        let text =
            String::from_utf8(response).map_err(|_| fault("the module's response is not UTF-8"))?;
        if text.as_bytes().contains(&0) {
            return Err(fault("the module's response contains a NUL byte"));
        }
        Ok(text)
    }
}
