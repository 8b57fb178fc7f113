//! The on-disk cache of precompiled modules.
//!
//! One file per (module sha256, wasmtime version, engine compatibility hash — which covers
//! the target and the CPU features cranelift compiled for), named after all three, so a
//! new module, a wasmtime upgrade or a move to another CPU simply misses and compiles
//! again. Files are written to a unique temporary name and renamed into place, so a
//! reader (another php-fpm worker) sees either no file or a complete one, never a torn
//! write, and no file is ever changed in place (wasmtime maps it into memory).
//!
//! A cached file is machine code that wasmtime maps and runs, so it is trusted only when
//! it and its directory belong to this process's user (or root) and neither is writable
//! by group or others; the directory is created `0700`. A file that fails these checks or
//! that wasmtime refuses is ignored (and replaced after compiling).
use std::fs::{self, DirBuilder, OpenOptions};
use std::hash::{Hash, Hasher};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};
use wasmtime::{Engine, Module};

/// Feeds `Hash` output into sha256, so the engine's compatibility hash becomes a stable
/// string across processes (`DefaultHasher` promises no such thing).
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    fn finish(&self) -> u64 {
        // Only `write` is used; the digest is read with `finalize`.
        0
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex of the engine's precompiled-code compatibility hash (wasmtime version, compiler
/// settings, target triple, CPU feature flags).
pub fn engine_compat_hash(engine: &Engine) -> String {
    let mut h = Sha256Hasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut h);
    hex(&h.0.finalize())
}

/// The cache file name for a module under an engine.
pub fn file_name(engine: &Engine, wasm_sha256: &str) -> String {
    let compat = engine_compat_hash(engine);
    format!(
        "mail2fa-{}-wasmtime-{}-{}-{}.cwasm",
        &wasm_sha256[..wasm_sha256.len().min(16)],
        crate::WASMTIME_VERSION,
        std::env::consts::ARCH,
        &compat[..16]
    )
}

fn effective_uid() -> Option<u32> {
    // /proc/self belongs to the process's effective user. Not cached: a php-fpm worker
    // changes user after the fork.
    fs::metadata("/proc/self").ok().map(|m| m.uid())
}

fn check_trusted(path: &Path, meta: &fs::Metadata, what: &str) -> Result<(), String> {
    let uid = meta.uid();
    if uid != 0 && Some(uid) != effective_uid() {
        return Err(format!(
            "{what} {} belongs to uid {uid}, not to this process's user or root",
            path.display()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "{what} {} is writable by group or others (mode {:o})",
            path.display(),
            meta.mode() & 0o7777
        ));
    }
    Ok(())
}

fn check_dir(dir: &Path) -> Result<(), String> {
    let meta = fs::metadata(dir).map_err(|e| format!("cache directory {}: {e}", dir.display()))?;
    if !meta.is_dir() {
        return Err(format!(
            "cache directory {} is not a directory",
            dir.display()
        ));
    }
    check_trusted(dir, &meta, "cache directory")
}

/// Loads the precompiled module `name` from `dir`: `Ok(None)` when there is no such file,
/// `Err(reason)` when there is one that is not trusted or not usable by this engine.
pub fn load(engine: &Engine, dir: &Path, name: &str) -> Result<Option<Module>, String> {
    let path = dir.join(name);
    let meta = match fs::symlink_metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cache file {}: {e}", path.display())),
    };
    if !meta.file_type().is_file() {
        return Err(format!(
            "cache file {} is not a regular file",
            path.display()
        ));
    }
    check_dir(dir)?;
    check_trusted(&path, &meta, "cache file")?;
    map_precompiled(engine, &path).map(Some)
}

#[allow(unsafe_code)]
fn map_precompiled(engine: &Engine, path: &Path) -> Result<Module, String> {
    // SAFETY: `Module::deserialize_file` runs the file's machine code, so it must come from
    // `Module::serialize` and never change while mapped. `load` admits only a regular file
    // owned by this user or root in a directory of the same kind, neither writable by
    // anyone else; this module only ever writes such files whole (temp file + rename), never
    // in place; and wasmtime checks the header (version, engine settings, CPU features).
    unsafe { Module::deserialize_file(engine, path) }.map_err(|e| {
        format!(
            "cache file {} is not usable by this engine: {e}",
            path.display()
        )
    })
}

/// Writes `bytes` as `dir/name` atomically (unique temp file, fsync, rename); creates
/// `dir` (mode 0700) if needed. Returns the final path.
pub fn store(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, String> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("cannot create cache directory {}: {e}", dir.display()))?;
    check_dir(dir)?;
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let tmp = dir.join(format!(".{name}.{}.{nanos}.tmp", std::process::id()));
    let path = dir.join(name);
    let write = || -> io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, &path)
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        format!("cannot write cache file {}: {e}", path.display())
    })?;
    Ok(path)
}
