//! A bridge from the workspace's `rand_core` 0.6 generators to the 0.10
//! traits that `crypto-primes` 0.7 asks for.
//!
//! The workspace (ring, frost, age) is on `rand_core` 0.6, while the
//! crypto-bigint 0.7 generation is on 0.10. Callers hand us one 0.6
//! `CryptoRngCore`; this wrapper forwards every request to it unchanged.

use core::convert::Infallible;

use rand_core::CryptoRngCore;

/// A `rand_core` 0.6 CSPRNG seen through the `rand_core` 0.10 traits.
pub(crate) struct Bridge<'a, R: ?Sized>(pub(crate) &'a mut R);

impl<R: CryptoRngCore + ?Sized> rand_core_010::TryRng for Bridge<'_, R> {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.0.next_u32())
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.0.next_u64())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.0.fill_bytes(dst);
        Ok(())
    }
}

// The wrapped generator is a CryptoRngCore, so the bridge is one too.
impl<R: CryptoRngCore + ?Sized> rand_core_010::TryCryptoRng for Bridge<'_, R> {}
