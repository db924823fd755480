//! The random source of generated passwords: the OS CSPRNG, read a buffer at a time, turned
//! into unbiased small numbers.

use crate::Error;

/// Random bytes from the OS, fetched a buffer at a time.
#[derive(Default)]
pub(super) struct RandomBytes {
    buffer: [u8; 32],
    used: usize,
}

impl RandomBytes {
    /// A uniform number in `0..bound` (`bound` <= 256), by rejection so no value is favoured.
    pub(super) fn below(&mut self, bound: usize) -> Result<usize, Error> {
        let limit = 256 - 256 % bound;
        loop {
            if self.used == 0 || self.used == self.buffer.len() {
                getrandom::fill(&mut self.buffer)
                    .map_err(|error| Error::Internal(format!("os random source: {error}")))?;
                self.used = 0;
            }
            let value = usize::from(self.buffer.get(self.used).copied().unwrap_or(u8::MAX));
            self.used += 1;
            if value < limit {
                return Ok(value % bound);
            }
        }
    }
}
