//! The fresh factor of security changes. The check itself is
//! [`crate::login::fresh_factor`], shared by every op that adds or replaces a way into the
//! account (`totp.enroll` over an enabled factor, `backup.generate`,
//! `app_password.create`, `device.trust`); the `proof` field is [`Proof`] and the `fresh`
//! object of the response [`FreshOut`](super::fields::FreshOut).

use super::fields::{Deferred, Proof, Window};
use crate::error::Result;
use crate::login::{fresh_factor, Fresh};
use crate::policy::Policy;
use crate::record::Record;
use crate::seal::Keyring;

/// Checks `proof` against `record` (see [`fresh_factor`]).
pub(crate) fn check(
    record: &mut Record,
    keyring: &Keyring,
    user: &str,
    proof: &Proof,
    window: Window,
    time: u64,
    policy: &Policy,
) -> Result<Fresh> {
    fresh_factor(
        record,
        keyring,
        user,
        proof.as_ref(),
        time,
        window.0,
        policy,
    )
}

/// For an op that must refuse a record that does not open before it changes anything:
/// with a well-formed proof, [`check`] opens every sealed value (once, decrypting the
/// TOTP secret a single time for the check as well); without one, they are opened here.
/// The answer says which: pass it to [`Opening::first`] with every result up to the
/// proof check, so a record that does not open is still the error reported first.
pub(crate) fn open_unless_proved(
    record: &Record,
    keyring: &Keyring,
    user: &str,
    proof: &Deferred<Proof>,
) -> Result<Opening> {
    match proof.peek() {
        Some(Proof(Some(_))) => Ok(Opening {
            left_to_proof: true,
        }),
        _ => record.check_opens(keyring, user).map(|()| Opening {
            left_to_proof: false,
        }),
    }
}

/// Whether opening the record was left to the proof check ([`open_unless_proved`]).
#[derive(Clone, Copy)]
pub(crate) struct Opening {
    left_to_proof: bool,
}

impl Opening {
    /// `result`, unless it is an error and the record was not opened yet and does not
    /// open: then that (as when the record was opened first).
    pub(crate) fn first<T>(
        self,
        record: &Record,
        keyring: &Keyring,
        user: &str,
        result: Result<T>,
    ) -> Result<T> {
        if self.left_to_proof && result.is_err() {
            record.check_opens(keyring, user)?;
        }
        result
    }
}
