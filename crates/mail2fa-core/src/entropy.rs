//! Host-supplied entropy, stretched into as many random bytes as an operation needs.
//!
//! The core has no random source of its own. Each call that needs randomness takes at
//! least [`MIN_ENTROPY_BYTES`] fresh bytes from the host; they key a ChaCha20 keystream
//! (after SHA-256, so any length works), which then yields secrets, nonces and tokens.
//! Given the same entropy the output is the same, which keeps the core testable and
//! the conformance vectors exact.

use chacha20::cipher::{KeyIvInit, StreamCipher};
use chacha20::ChaCha20;
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use crate::error::{Error, ErrorCode, Result};

/// The least entropy a host must pass to any operation that needs randomness.
pub const MIN_ENTROPY_BYTES: usize = 32;

/// A deterministic random stream keyed by host entropy.
pub struct EntropyStream {
    cipher: ChaCha20,
}

impl EntropyStream {
    /// Keys a stream from host entropy; refuses fewer than [`MIN_ENTROPY_BYTES`].
    pub fn from_host(entropy: &[u8]) -> Result<Self> {
        if entropy.len() < MIN_ENTROPY_BYTES {
            return Err(Error::new(
                ErrorCode::InsufficientEntropy,
                alloc::format!(
                    "entropy must be at least {MIN_ENTROPY_BYTES} bytes, got {}",
                    entropy.len()
                ),
            ));
        }
        let mut hasher = Sha256::new();
        hasher.update(b"mail2fa entropy v1\0");
        hasher.update(entropy);
        let mut key: [u8; 32] = hasher.finalize().into();
        let cipher = ChaCha20::new(&key.into(), &[0u8; 12].into());
        key.zeroize();
        Ok(EntropyStream { cipher })
    }

    /// Fills `out` with the next bytes of the stream.
    pub fn fill(&mut self, out: &mut [u8]) {
        out.fill(0);
        self.cipher.apply_keystream(out);
    }

    /// The next `N` bytes of the stream.
    pub fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        self.fill(&mut out);
        out
    }

    /// A uniform integer in `0..bound` (rejection sampling, no modulo bias). `bound` > 0.
    pub fn below(&mut self, bound: u32) -> u32 {
        debug_assert!(bound > 0);
        let bound = bound.max(1);
        let zone = u32::MAX - (u32::MAX % bound);
        loop {
            let v = u32::from_le_bytes(self.array::<4>());
            if v < zone {
                return v % bound;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_entropy_is_refused() {
        let err = EntropyStream::from_host(&[7u8; 31]).err().unwrap();
        assert_eq!(err.code(), ErrorCode::InsufficientEntropy);
    }

    #[test]
    fn same_entropy_same_stream_different_entropy_different_stream() {
        let a = EntropyStream::from_host(&[1u8; 32]).unwrap().array::<32>();
        let b = EntropyStream::from_host(&[1u8; 32]).unwrap().array::<32>();
        let c = EntropyStream::from_host(&[2u8; 32]).unwrap().array::<32>();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, [0u8; 32]);
    }

    #[test]
    fn below_stays_in_range() {
        let mut s = EntropyStream::from_host(&[9u8; 40]).unwrap();
        let mut seen = [false; 7];
        for _ in 0..500 {
            let v = s.below(7) as usize;
            assert!(v < 7);
            seen[v] = true;
        }
        assert!(
            seen.iter().all(|&x| x),
            "every value of 0..7 appears in 500 draws"
        );
    }
}
